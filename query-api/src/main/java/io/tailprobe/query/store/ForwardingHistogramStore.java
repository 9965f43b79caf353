package io.tailprobe.query.store;

import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.List;

/**
 * A store that passes every call on to another one, versions included (so caches above it keep working):
 * a wrapper overrides only what it changes, e.g. reads that take a query's turn first. Closing it leaves
 * the other store open.
 */
public abstract class ForwardingHistogramStore implements HistogramStore {
    private final HistogramStore store;

    protected ForwardingHistogramStore(HistogramStore store) {
        this.store = store;
    }

    @Override
    public List<SeriesInfo> series() {
        return store.series();
    }

    @Override
    public List<SeriesInfo> series(String target) {
        return store.series(target);
    }

    @Override
    public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                           long toMillisExclusive) {
        return store.windows(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
    }

    @Override
    public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis, long toMillisExclusive) {
        return store.version(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
    }

    @Override
    public long seriesVersion() {
        return store.seriesVersion();
    }

    @Override
    public boolean isRunning() {
        return store.isRunning();
    }

    @Override
    public boolean isCaughtUp() {
        return store.isCaughtUp();
    }

    @Override
    public HistogramStore local() {
        return store.local();
    }
}
