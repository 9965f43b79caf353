package io.tailprobe.query.http;

import io.javalin.http.Handler;
import io.tailprobe.query.store.ForwardingHistogramStore;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Queries that read windows take turns: at most {@code limit} of them are worked on at once, the others
 * wait, first come first served. Reading and adding up windows is CPU work from start to end (RocksDB's
 * cache, sums in memory), so beyond one per core more at once only stretches every query: 32 clients on
 * 2 cores share them 32 ways, and each query takes about 16 times its own CPU time, the ones with the
 * most windows to read the longest. Taking turns, a query waits for those ahead of it and then runs at
 * full speed: the same throughput, and a wait that is about the same for every query.
 *
 * <p>A query takes its turn when it first reads windows from the store ({@link #readingInTurn}) and
 * keeps it until it is answered. One answered from kept sums alone (a repeated range, the latest window,
 * a dashboard's "last 7 days" within the same 10 s) reads nothing and never waits: parking and waking a
 * thread for it would cost more than the answer. Only the public query routes ({@link #taking}) take
 * turns. {@code /health}, {@code /ready} and {@code /metrics} answer while queries wait; raw-sample
 * streams wait on Kafka, not on the cores; and the internal routes another instance reads windows
 * through never wait, since that instance may be holding a turn of its own while it reads them (two
 * instances each waiting on the other would never answer).
 */
public final class QueryTurns {
    private final int limit;
    private final Semaphore turns;
    /** Whether the request this thread works on holds a turn. */
    private final ThreadLocal<Boolean> held = ThreadLocal.withInitial(() -> Boolean.FALSE);

    public QueryTurns(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
        this.limit = limit;
        this.turns = new Semaphore(limit, true);
    }

    /** {@code handler}, giving back the turn its reads took, if any, once it has answered. */
    Handler taking(Handler handler) {
        return ctx -> {
            try {
                handler.handle(ctx);
            } finally {
                if (held.get()) {
                    held.set(Boolean.FALSE);
                    turns.release();
                }
            }
        };
    }

    /** {@code store}, whose reads of windows take the calling query's turn first: what the query routes read. */
    HistogramStore readingInTurn(HistogramStore store) {
        return new InTurn(store);
    }

    private void takeTurn() {
        if (!held.get()) {
            turns.acquireUninterruptibly();
            held.set(Boolean.TRUE);
        }
    }

    public int limit() {
        return limit;
    }

    /** Queries that hold a turn now. */
    public int running() {
        return limit - turns.availablePermits();
    }

    /** Queries waiting for their turn, about. */
    public int waiting() {
        return turns.getQueueLength();
    }

    /** The store, all of it passed through, its window reads in turn. */
    private final class InTurn extends ForwardingHistogramStore {
        InTurn(HistogramStore store) {
            super(store);
        }

        @Override
        public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                               long toMillisExclusive) {
            takeTurn();
            return super.windows(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
        }
    }
}
