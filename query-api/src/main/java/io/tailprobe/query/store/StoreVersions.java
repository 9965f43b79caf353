package io.tailprobe.query.store;

import io.tailprobe.schemas.SeriesKey;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Version numbers that tell a cache above a {@link HistogramStore} whether what it read is still what
 * the store holds: per series, host, resolution and UTC day of the windows' starts, changed by every
 * window written to or deleted from that day, and all of them changed at once by anything else that
 * may change the stores (a restore from the changelog, a rebalance, any state change). A version never
 * repeats: every change takes the next number of one sequence, and the version of a range of windows
 * is the largest of its days' last changes and the last change of everything.
 *
 * <p>Example: the fleet-wide 1 h windows of {@code db|tcp|tcp} from Monday to Friday read at version
 * 41 are still current while {@link #version} answers 41 for that range; a new 1 h window of that
 * series on Saturday leaves it at 41 (it changes Saturday's version only), a re-emitted window of
 * Wednesday makes it 42, and a rebalance makes every version at least 43. So a cache keeps the sums of
 * past days while the current hour's windows keep arriving.
 *
 * <p>Memory stays bounded: per series, host and resolution the last {@value #KEPT_DAYS} days changed
 * are kept one by one; a change of an older day (a restore reads history oldest first) goes into one
 * number that every range reaching back to that day includes, which only ever makes a version newer.
 *
 * <p>A writer must change the version after the write is visible to readers, and a reader must read
 * the version before it reads the windows: a write racing the read then leaves a newer version than
 * the one the reader keeps, so nothing stale is ever kept under a current version.
 */
public final class StoreVersions {
    static final long DAY_MILLIS = 86_400_000L;
    static final int KEPT_DAYS = 16;

    private record Key(SeriesKey series, String host, int resolutionSeconds) {}

    /**
     * The last changes of one series, host and resolution: {@code versions[i]} of day {@code days[i]}
     * (ascending), and the latest change of any day up to {@code olderDay} no longer kept one by one.
     * Replaced, never changed in place, so readers need no lock.
     */
    private record Changes(long[] days, long[] versions, long olderDay, long olderVersion) {
        static final Changes NONE = new Changes(new long[0], new long[0], Long.MIN_VALUE, 0);

        long versionOf(long firstDay, long lastDay) {
            long version = firstDay <= olderDay ? olderVersion : 0;
            for (int i = 0; i < days.length; i++) {
                if (days[i] >= firstDay && days[i] <= lastDay) {
                    version = Math.max(version, versions[i]);
                }
            }
            return version;
        }

        Changes with(long day, long version) {
            if (day <= olderDay) {
                return new Changes(days, versions, olderDay, version);
            }
            int at = Arrays.binarySearch(days, day);
            if (at >= 0) {
                long[] changed = versions.clone();
                changed[at] = version;
                return new Changes(days, changed, olderDay, olderVersion);
            }
            int insert = -at - 1;
            long[] newDays = new long[days.length + 1];
            long[] newVersions = new long[days.length + 1];
            System.arraycopy(days, 0, newDays, 0, insert);
            System.arraycopy(versions, 0, newVersions, 0, insert);
            newDays[insert] = day;
            newVersions[insert] = version;
            System.arraycopy(days, insert, newDays, insert + 1, days.length - insert);
            System.arraycopy(versions, insert, newVersions, insert + 1, days.length - insert);
            if (newDays.length <= KEPT_DAYS) {
                return new Changes(newDays, newVersions, olderDay, olderVersion);
            }
            // the oldest day kept goes into the older days' number
            return new Changes(Arrays.copyOfRange(newDays, 1, newDays.length),
                    Arrays.copyOfRange(newVersions, 1, newVersions.length), newDays[0],
                    Math.max(olderVersion, newVersions[0]));
        }
    }

    private final AtomicLong sequence = new AtomicLong();
    private final Map<Key, Changes> changed = new ConcurrentHashMap<>();
    private volatile long everything;
    private volatile long seriesSet;

    /**
     * The version of the windows of one series, host and resolution that start in
     * {@code [fromMillis, toMillisExclusive)}: what {@link HistogramStore#windows} returns for the same arguments.
     */
    public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis, long toMillisExclusive) {
        Changes own = changed.get(new Key(series, host, resolutionSeconds));
        if (own == null || toMillisExclusive <= fromMillis) {
            return everything;
        }
        long firstDay = Math.floorDiv(fromMillis, DAY_MILLIS);
        long lastDay = Math.floorDiv(toMillisExclusive - 1, DAY_MILLIS);
        return Math.max(own.versionOf(firstDay, lastDay), everything);
    }

    /** The version of the set of series, hosts and resolutions stored: changed when one is added. */
    public long seriesVersion() {
        return seriesSet;
    }

    /** The window of this series, host and resolution starting at {@code windowStartMillis} was written or deleted. */
    public void changed(SeriesKey series, String host, int resolutionSeconds, long windowStartMillis) {
        long day = Math.floorDiv(windowStartMillis, DAY_MILLIS);
        changed.compute(new Key(series, host, resolutionSeconds),
                (key, old) -> (old == null ? Changes.NONE : old).with(day, sequence.incrementAndGet()));
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
