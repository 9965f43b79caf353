package io.tailprobe.query.store;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A {@link HistogramStore} in a {@link TreeMap} keyed by {@link HistogramKey#encode()}, with the same
 * upsert semantics as the Kafka-backed store: putting a window with the key of a stored one replaces
 * it. Used by the API tests and the benchmarks; thread-safe.
 *
 * <p>Example: after {@code put} of the 10 s windows starting at 0, 10 000 and 20 000 ms of one series,
 * {@code windows(series, host, 10, 5_000, 20_000)} returns the one starting at 10 000 ms.
 */
public final class InMemoryHistogramStore implements HistogramStore {
    private final NavigableMap<String, WindowedHistogram> windows = new TreeMap<>();
    private final NavigableMap<String, SeriesInfo> series = new TreeMap<>();
    private final StoreVersions versions = new StoreVersions();
    private volatile boolean running = true;
    private volatile boolean caughtUp = true;

    public synchronized void put(WindowedHistogram window) {
        HistogramKey key = HistogramKey.of(window);
        windows.put(key.encode(), window);
        if (!series.containsKey(HistogramKey.prefix(key.series(), key.host(), key.resolutionSeconds()))) {
            versions.seriesAdded();
        }
        series.merge(HistogramKey.prefix(key.series(), key.host(), key.resolutionSeconds()),
                new SeriesInfo(key.series().target(), key.series().probeType(), key.series().protocol(), key.host(),
                        key.resolutionSeconds(), key.windowStartMillis(), key.windowStartMillis(), window.getLabels()),
                (old, added) -> old.including(added.firstWindowStartMillis(), added.labels()));
        versions.changed(key.series(), key.host(), key.resolutionSeconds(), key.windowStartMillis());
    }

    /**
     * Deletes the window stored under {@code key}, as a tombstone (or retention, once the state is
     * rebuilt) deletes it from the Kafka-backed store; the series stays listed, as there.
     */
    public synchronized void remove(HistogramKey key) {
        windows.remove(key.encode());
        versions.changed(key.series(), key.host(), key.resolutionSeconds(), key.windowStartMillis());
    }

    /** Changes every version, as a restore or a rebalance of the Kafka-backed store does. */
    public void changedAll() {
        versions.changedAll();
    }

    public void putAll(Iterable<WindowedHistogram> windows) {
        for (WindowedHistogram window : windows) {
            put(window);
        }
    }

    /** Makes {@link #isRunning()} report {@code running}, e.g. to test {@code /health}. */
    public void setRunning(boolean running) {
        this.running = running;
    }

    /** Makes {@link #isCaughtUp()} report {@code caughtUp} while running, e.g. to test {@code /ready}. */
    public void setCaughtUp(boolean caughtUp) {
        this.caughtUp = caughtUp;
    }

    @Override
    public synchronized List<SeriesInfo> series() {
        List<SeriesInfo> all = new ArrayList<>(series.values());
        all.sort(SeriesInfo.NATURAL_ORDER);
        return all;
    }

    @Override
    public synchronized List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds,
                                                        long fromMillis, long toMillisExclusive) {
        if (toMillisExclusive <= fromMillis || toMillisExclusive <= 0) {
            return List.of();
        }
        String from = new HistogramKey(series, host, resolutionSeconds, Math.max(0, fromMillis)).encode();
        String to = new HistogramKey(series, host, resolutionSeconds, toMillisExclusive).encode();
        return new ArrayList<>(windows.subMap(from, true, to, false).values());
    }

    @Override
    public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                        long toMillisExclusive) {
        return versions.version(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
    }

    @Override
    public long seriesVersion() {
        return versions.seriesVersion();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public boolean isCaughtUp() {
        return running && caughtUp;
    }
}
