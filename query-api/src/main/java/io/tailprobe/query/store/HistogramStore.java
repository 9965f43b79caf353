package io.tailprobe.query.store;

import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.List;

/**
 * The query side's read-only view of the closed windows in {@code latency.histograms.<resolution>}.
 * Every method may throw {@link StoreUnavailableException} when the store cannot answer now (starting,
 * rebalancing, or the instance that holds a series unreachable); the API answers 503.
 *
 * <p>Example: {@code windows(new SeriesKey("db", "tcp", "tcp"), "*", 10, 1_763_900_000_000L,
 * 1_763_900_060_000L)} returns the six fleet-wide 10 s windows starting at 14:13:20.000 … 14:14:10.000
 * UTC, oldest first; a window starting exactly at {@code toMillisExclusive} is not included.
 */
public interface HistogramStore extends AutoCloseable {
    /** What {@link #version} and {@link #seriesVersion} answer when the store cannot tell: cache nothing read from it. */
    long UNVERSIONED = -1;

    /** Every series, host and resolution that has at least one window, sorted by {@link SeriesInfo#NATURAL_ORDER}. */
    List<SeriesInfo> series();

    /**
     * The entries of {@link #series()} of one target, e.g. {@code db}'s {@code tcp} series at every host
     * and resolution: what a query about one target chooses its windows from.
     */
    default List<SeriesInfo> series(String target) {
        return series().stream().filter(info -> info.target().equals(target)).toList();
    }

    /**
     * The windows of one series, host ({@code "*"} = fleet-wide) and resolution whose start lies in
     * {@code [fromMillis, toMillisExclusive)}, oldest first.
     *
     * @throws StoreUnavailableException when the store cannot answer now (starting, rebalancing)
     */
    List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                    long toMillisExclusive);

    /**
     * A number that changes whenever the windows {@link #windows} returns for the same arguments may
     * have changed (see {@link StoreVersions}), or {@link #UNVERSIONED} when this store cannot tell
     * (windows held by another instance): a cache may keep what it computed from those windows under
     * this version, read <em>before</em> the windows, and use it while the version is the same.
     */
    default long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                         long toMillisExclusive) {
        return UNVERSIONED;
    }

    /**
     * A number that changes whenever a series, host or resolution may have been added to
     * {@link #series()}, or {@link #UNVERSIONED}. The first and last window starts and the labels the
     * entries carry may change without it.
     */
    default long seriesVersion() {
        return UNVERSIONED;
    }

    /** Whether queries can be answered now; {@code /health} reports it. */
    boolean isRunning();

    /**
     * Whether the store has read {@code latency.histograms} up to its end, once since it last started
     * or took over partitions, and still runs; {@code /ready} reports it. Until then answers may lack
     * windows the topic holds.
     */
    boolean isCaughtUp();

    /**
     * The part of this store that this instance holds itself, which other instances read through
     * {@code /internal/v1/…}: the store itself unless it routes queries to other instances.
     */
    default HistogramStore local() {
        return this;
    }

    @Override
    default void close() {}
}
