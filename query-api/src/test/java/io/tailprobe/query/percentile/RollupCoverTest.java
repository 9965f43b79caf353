package io.tailprobe.query.percentile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.query.TestWindows;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class RollupCoverTest {
    static final SeriesKey SERIES = new SeriesKey("db", "tcp", "tcp");
    static final long T0_MILLIS = 1_795_442_520_000L; // 14:02:00Z, minute-aligned
    static final List<Double> QUANTILES = List.of(0.5, 0.99, 0.999);

    /** Three minutes of 10 s windows; the first two minutes also rolled up into 1 min windows, the third still open. */
    private InMemoryHistogramStore storeWithRollups(boolean withRollups) {
        InMemoryHistogramStore store = new InMemoryHistogramStore();
        Random random = new Random(11);
        List<WindowedHistogram> minute = new ArrayList<>();
        for (int w = 0; w < 18; w++) {
            long[] values = new long[50];
            for (int i = 0; i < values.length; i++) {
                values[i] = 1_000_000L + random.nextInt(200_000_000);
            }
            WindowedHistogram window = TestWindows.window(SERIES, HistogramKey.FLEET, T0_MILLIS + w * 10_000L, values, w % 3);
            store.put(window);
            minute.add(window);
            if (minute.size() == 6 && w < 12 && withRollups) {
                store.put(rollup(minute));
            }
            if (minute.size() == 6) {
                minute = new ArrayList<>();
            }
        }
        return store;
    }

    private static WindowedHistogram rollup(List<WindowedHistogram> windows) {
        Histogram response = LatencyHistograms.newHistogram();
        Histogram service = LatencyHistograms.newHistogram();
        long count = 0;
        long ok = 0;
        long timeouts = 0;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (WindowedHistogram w : windows) {
            response.add(LatencyHistograms.decode(w.getResponseTimeHistogram()));
            service.add(LatencyHistograms.decode(w.getServiceTimeHistogram()));
            count += w.getSampleCount();
            ok += w.getOutcomeCounts().getOrDefault("OK", 0L);
            timeouts += w.getOutcomeCounts().getOrDefault("TIMEOUT", 0L);
            min = Math.min(min, w.getMinResponseTimeNanos());
            max = Math.max(max, w.getMaxResponseTimeNanos());
        }
        WindowedHistogram first = windows.getFirst();
        return WindowedHistogram.newBuilder(first)
                .setResolutionSeconds(60)
                .setWindowEndMillis(first.getWindowStartMillis() + 60_000L)
                .setSampleCount(count)
                .setOutcomeCounts(java.util.Map.of("OK", ok, "TIMEOUT", timeouts))
                .setMinResponseTimeNanos(min).setMaxResponseTimeNanos(max)
                .setMinServiceTimeNanos(TestWindows.serviceNanos(min)).setMaxServiceTimeNanos(TestWindows.serviceNanos(max))
                .setResponseTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(response)))
                .setServiceTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(service)))
                .build();
    }

    private static PercentileResult query(InMemoryHistogramStore store, long fromMillis, long toMillis) {
        return new PercentileService(store).percentiles(PercentileServiceTest.query("db", "tcp", null, HistogramKey.FLEET,
                fromMillis, toMillis, QUANTILES));
    }

    @Test
    void closed_rollups_stand_in_for_their_windows_and_the_answer_does_not_change() {
        PercentileResult fineOnly = query(storeWithRollups(false), T0_MILLIS, T0_MILLIS + 180_000);
        PercentileResult covered = query(storeWithRollups(true), T0_MILLIS, T0_MILLIS + 180_000);

        assertThat(fineOnly.windows()).isEqualTo(18);
        assertThat(covered.windows()).as("two 1 min rollups + the third minute's six 10 s windows").isEqualTo(8);
        assertThat(covered.count()).isEqualTo(fineOnly.count()).isEqualTo(18 * 50 + 18);
        assertThat(covered.outcomes()).isEqualTo(fineOnly.outcomes());
        assertThat(covered.responseTime()).isEqualTo(fineOnly.responseTime());
        assertThat(covered.serviceTime()).isEqualTo(fineOnly.serviceTime());
        assertThat(covered.resolutionSeconds()).isEqualTo(10);
    }

    @Test
    void a_range_that_cuts_a_minute_uses_fine_windows_at_its_edges() {
        long from = T0_MILLIS + 25_000; // inside the first minute: its rollup cannot be used
        long to = T0_MILLIS + 135_000;
        PercentileResult fineOnly = query(storeWithRollups(false), from, to);
        PercentileResult covered = query(storeWithRollups(true), from, to);

        // 10 s windows from 14:02:20 to 14:02:50 (4), the 14:03 rollup (1), 14:04:00..14:04:10 (2)
        assertThat(covered.windows()).isEqualTo(7);
        assertThat(fineOnly.windows()).isEqualTo(12);
        assertThat(covered.count()).isEqualTo(fineOnly.count());
        assertThat(covered.responseTime()).isEqualTo(fineOnly.responseTime());
    }

    @Test
    void a_requested_resolution_reads_only_its_windows_and_the_range_starts_on_one_of_them() {
        PercentileResult minutes = new PercentileService(storeWithRollups(true)).percentiles(new PercentileQuery(
                new SeriesRange("db", "tcp", null, null, T0_MILLIS + 25_000, T0_MILLIS + 180_000, 60), QUANTILES,
                List.of()));
        PercentileResult fineOnly = query(storeWithRollups(false), T0_MILLIS, T0_MILLIS + 120_000);

        // the 14:02 and 14:03 rollups; 14:04 has not been rolled up, so a 1 min query sees nothing of it
        assertThat(minutes.resolutionSeconds()).isEqualTo(60);
        assertThat(minutes.fromMillis()).isEqualTo(T0_MILLIS);
        assertThat(minutes.windows()).isEqualTo(2);
        assertThat(minutes.count()).isEqualTo(fineOnly.count());
        assertThat(minutes.responseTime()).isEqualTo(fineOnly.responseTime());
    }

    @Test
    void a_resolution_the_series_is_not_stored_at_is_an_invalid_query_naming_the_stored_ones() {
        assertThatThrownBy(() -> new PercentileService(storeWithRollups(true)).percentiles(new PercentileQuery(
                new SeriesRange("db", "tcp", null, null, T0_MILLIS, T0_MILLIS + 60_000, 3600), QUANTILES, List.of())))
                .isInstanceOfSatisfying(InvalidQueryException.class, e -> {
                    assertThat(e.parameter()).isEqualTo("resolution");
                    assertThat(e.value()).isEqualTo("3600s");
                    assertThat(e.rule()).isEqualTo("must be a resolution the series is stored at, in seconds: [10, 60]");
                });
    }

    @Test
    void a_time_series_uses_each_closed_rollup_for_the_step_it_falls_in() {
        TimeSeriesQuery minutes = new TimeSeriesQuery(new SeriesRange("db", "tcp", null, null, T0_MILLIS,
                T0_MILLIS + 180_000, 0), Latency.RESPONSE, 60, QUANTILES);
        TimeSeriesResult covered = new PercentileService(storeWithRollups(true)).timeSeries(minutes);
        TimeSeriesResult fineOnly = new PercentileService(storeWithRollups(false)).timeSeries(minutes);

        assertThat(covered.points()).extracting(TimeSeriesResult.Point::windows).containsExactly(1, 1, 6);
        assertThat(fineOnly.points()).extracting(TimeSeriesResult.Point::windows).containsExactly(6, 6, 6);
        for (int i = 0; i < 3; i++) {
            assertThat(covered.points().get(i).latency()).isEqualTo(fineOnly.points().get(i).latency());
            assertThat(covered.points().get(i).outcomes()).isEqualTo(fineOnly.points().get(i).outcomes());
        }
    }

    @Test
    void a_rollup_that_straddles_two_steps_is_not_used() {
        TimeSeriesQuery halfMinutes = new TimeSeriesQuery(new SeriesRange("db", "tcp", null, null, T0_MILLIS,
                T0_MILLIS + 180_000, 0), Latency.RESPONSE, 30, QUANTILES);
        TimeSeriesResult covered = new PercentileService(storeWithRollups(true)).timeSeries(halfMinutes);

        assertThat(covered.points()).hasSize(6).extracting(TimeSeriesResult.Point::windows).containsOnly(3);
    }
}
