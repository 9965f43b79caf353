package io.tailprobe.query.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A range's version changes with a change of any of its days, and only then; it never repeats. */
class StoreVersionsTest {
    private static final SeriesKey DB = new SeriesKey("db", "tcp", "tcp");
    private static final String FLEET = HistogramKey.FLEET;
    private static final long DAY = StoreVersions.DAY_MILLIS;
    /** 00:00Z on a Monday. */
    private static final long MONDAY = 1_795_392_000_000L;

    private final StoreVersions versions = new StoreVersions();

    private long week() {
        return versions.version(DB, FLEET, 3_600, MONDAY, MONDAY + 7 * DAY);
    }

    @Test
    void a_change_moves_the_versions_of_the_ranges_holding_its_day_only() {
        versions.changed(DB, FLEET, 3_600, MONDAY + 2 * DAY + 3_600_000L); // Wednesday 01:00
        long week = week();
        long monday = versions.version(DB, FLEET, 3_600, MONDAY, MONDAY + DAY);
        long wednesdayMorning = versions.version(DB, FLEET, 3_600, MONDAY + 2 * DAY, MONDAY + 2 * DAY + 4 * 3_600_000L);

        versions.changed(DB, FLEET, 3_600, MONDAY + 7 * DAY); // the next Monday: outside the week
        versions.changed(DB, FLEET, 60, MONDAY + 2 * DAY); // another resolution
        versions.changed(new SeriesKey("web", "tcp", "tcp"), FLEET, 3_600, MONDAY + 2 * DAY); // another series
        versions.changed(DB, "host-1", 3_600, MONDAY + 2 * DAY); // another host
        assertThat(week()).isEqualTo(week);

        versions.changed(DB, FLEET, 3_600, MONDAY + 2 * DAY + 20 * 3_600_000L); // Wednesday 20:00
        assertThat(week()).isGreaterThan(week);
        assertThat(versions.version(DB, FLEET, 3_600, MONDAY, MONDAY + DAY)).isEqualTo(monday);
        assertThat(versions.version(DB, FLEET, 3_600, MONDAY + 2 * DAY, MONDAY + 2 * DAY + 4 * 3_600_000L))
                .as("the same day: days are the unit").isGreaterThan(wednesdayMorning);
        assertThat(versions.version(DB, FLEET, 3_600, MONDAY + DAY, MONDAY + 2 * DAY))
                .as("a range ending where Wednesday starts").isEqualTo(monday);
    }

    @Test
    void changes_of_days_no_longer_kept_one_by_one_still_change_every_range_reaching_them() {
        for (int day = 0; day < StoreVersions.KEPT_DAYS + 10; day++) { // a restore reads history oldest first
            versions.changed(DB, FLEET, 3_600, MONDAY + day * DAY);
        }
        long firstDay = versions.version(DB, FLEET, 3_600, MONDAY, MONDAY + DAY);
        long lastDay = versions.version(DB, FLEET, 3_600, MONDAY + 25 * DAY, MONDAY + 26 * DAY);
        versions.changed(DB, FLEET, 3_600, MONDAY + 3 * DAY);
        assertThat(versions.version(DB, FLEET, 3_600, MONDAY, MONDAY + DAY))
                .as("folded into the older days' version: newer, never stale").isGreaterThan(firstDay);
        assertThat(versions.version(DB, FLEET, 3_600, MONDAY + 25 * DAY, MONDAY + 26 * DAY)).isEqualTo(lastDay);
    }

    @Test
    void everything_changed_moves_every_version_and_no_version_repeats() {
        Set<Long> seen = new HashSet<>();
        long last = -1;
        for (int i = 0; i < 100; i++) {
            if (i % 10 == 0) {
                versions.changedAll();
            } else {
                versions.changed(DB, FLEET, 3_600, MONDAY + (i % 3) * DAY);
            }
            long version = week();
            if (version != last) {
                assertThat(seen.add(version)).as("version %d seen before", version).isTrue();
                last = version;
            }
        }
        long before = versions.version(new SeriesKey("never", "tcp", "tcp"), FLEET, 10, MONDAY, MONDAY + DAY);
        versions.changedAll();
        assertThat(versions.version(new SeriesKey("never", "tcp", "tcp"), FLEET, 10, MONDAY, MONDAY + DAY))
                .isGreaterThan(before);
        assertThat(week()).isGreaterThan(last);
    }
}
