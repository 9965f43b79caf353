package io.tailprobe.query.store;

import io.tailprobe.schemas.SeriesKey;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Version numbers that tell a cache above a {@link HistogramStore} whether what it read is still what
 * the store holds: one per series, host and resolution, changed by every window written to or deleted
 * from it, and all of them changed at once by anything else that may change the stores (a restore from
 * the changelog, a rebalance, any state change). A version never repeats: every change takes the next
 * number of one sequence, and a series' version is the larger of its own last change and the last
 * change of everything.
 *
 * <p>Example: the fleet-wide 1 h windows of {@code db|tcp|tcp} read at version 41 are still current
 * while {@link #version} answers 41; a new 1 h window of that series makes it 42 (another series'
 * window, or a 10 s window of {@code db}, leaves it at 41), a rebalance makes every version at least 43.
 *
 * <p>A writer must change the version after the write is visible to readers, and a reader must read
 * the version before it reads the windows: a write racing the read then leaves a newer version than
 * the one the reader keeps, so nothing stale is ever kept under a current version.
 */
public final class StoreVersions {
    private record Key(SeriesKey series, String host, int resolutionSeconds) {}

    private final AtomicLong sequence = new AtomicLong();
    private final Map<Key, Long> changed = new ConcurrentHashMap<>();
    private volatile long everything;
    private volatile long seriesSet;

    /** The version of the windows of one series, host and resolution. */
    public long version(SeriesKey series, String host, int resolutionSeconds) {
        Long own = changed.get(new Key(series, host, resolutionSeconds));
        return own == null ? everything : Math.max(own, everything);
    }

    /** The version of the set of series, hosts and resolutions stored: changed when one is added. */
    public long seriesVersion() {
        return seriesSet;
    }

    /** A window of this series, host and resolution was written or deleted. */
    public void changed(SeriesKey series, String host, int resolutionSeconds) {
        changed.put(new Key(series, host, resolutionSeconds), sequence.incrementAndGet());
    }

    /** A series, host and resolution that had no window before has one now. */
    public void seriesAdded() {
        seriesSet = sequence.incrementAndGet();
    }

    /** Anything may have changed: a restore, a rebalance, a state change of the store. */
    public void changedAll() {
        long next = sequence.incrementAndGet();
        everything = next;
        seriesSet = next;
    }
}
