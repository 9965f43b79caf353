package io.tailprobe.query.http;

import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.util.concurrent.Semaphore;

/**
 * Queries take turns: at most {@code limit} are worked on at once, the others wait, first come first
 * served. Answering a query is CPU work from start to end (store reads hit RocksDB's cache, sums are
 * added in memory), so beyond one per core more at once only stretches every query: 32 clients on 2
 * cores share them 32 ways, and each query takes about 16 times its own CPU time, the ones with the
 * most windows to read the longest. Taking turns, a query waits for those ahead of it and then runs
 * at full speed: the same throughput, and a wait that is about the same for every query.
 *
 * <p>Only the public query routes take turns. {@code /health}, {@code /ready} and {@code /metrics}
 * answer while queries wait; raw-sample streams wait on Kafka, not on the cores; and the internal
 * routes another instance reads windows through never wait, since that instance may be holding a turn
 * of its own while it reads them (two instances each waiting on the other would never answer).
 */
public final class QueryTurns {
    private final int limit;
    private final Semaphore turns;

    public QueryTurns(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
        this.limit = limit;
        this.turns = new Semaphore(limit, true);
    }

    /** {@code handler}, run in its turn. */
    Handler taking(Handler handler) {
        return ctx -> run(handler, ctx);
    }

    private void run(Handler handler, Context ctx) throws Exception {
        turns.acquire();
        try {
            handler.handle(ctx);
        } finally {
            turns.release();
        }
    }

    public int limit() {
        return limit;
    }

    /** Queries worked on now. */
    public int running() {
        return limit - turns.availablePermits();
    }

    /** Queries waiting for their turn, about. */
    public int waiting() {
        return turns.getQueueLength();
    }
}
