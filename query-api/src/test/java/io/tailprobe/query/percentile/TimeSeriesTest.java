package io.tailprobe.query.percentile;

import static io.tailprobe.query.SampleFleet.HOSTS;
import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static io.tailprobe.query.percentile.PercentileServiceTest.assertWithinPrecision;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.store.InMemoryHistogramStore;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimeSeriesTest {
    private static final List<Double> QUANTILES = List.of(0.5, 0.99);
    private static final long DAY_MILLIS = 86_400_000L;

    private final SampleFleet fleet = new SampleFleet();
    private final PercentileService service = new PercentileService(fleet.fill(new InMemoryHistogramStore()), 1_000);

    private TimeSeriesResult series(String host, Latency latency, long fromMillis, long toMillis, long stepSeconds) {
        return service.timeSeries(new TimeSeriesQuery(new SeriesRange("demo-tcp", "tcp", null, host, fromMillis,
                toMillis, 0), latency, stepSeconds, QUANTILES));
    }

    @Test
    void each_one_minute_step_holds_the_exact_quantiles_of_the_raw_values_of_its_windows() {
        TimeSeriesResult result = series(null, Latency.RESPONSE, windowStartMillis(0), windowStartMillis(10), 60);

        assertThat(result.stepSeconds()).isEqualTo(60);
        assertThat(result.latency()).isEqualTo("response");
        assertThat(result.fromMillis()).isEqualTo(windowStartMillis(0));
        assertThat(result.points()).extracting(TimeSeriesResult.Point::startMillis)
                .containsExactly(windowStartMillis(0), windowStartMillis(6));
        int[][] windowsOfStep = {{0, 6}, {6, 10}};
        for (int i = 0; i < 2; i++) {
            TimeSeriesResult.Point point = result.points().get(i);
            int windows = windowsOfStep[i][1] - windowsOfStep[i][0];
            List<Long> raw = fleet.responseNanos(HOSTS, windowsOfStep[i][0], windowsOfStep[i][1]);
            assertThat(point.windows()).isEqualTo(windows);
            assertThat(point.count()).isEqualTo(windows * HOSTS.size()
                    * (SampleFleet.SAMPLES_PER_HOST_WINDOW + SampleFleet.TIMEOUTS_PER_HOST_WINDOW));
            assertThat(point.outcomes()).containsEntry("TIMEOUT",
                    windows * HOSTS.size() * SampleFleet.TIMEOUTS_PER_HOST_WINDOW);
            assertThat(point.latency().count()).isEqualTo(raw.size());
            for (double q : QUANTILES) {
                assertWithinPrecision(point.latency().quantilesMillis().get(PercentileService.quantileKey(q)),
                        TestWindows.exactQuantile(raw, q));
            }
        }
    }

    @Test
    void a_step_without_windows_is_a_point_with_count_zero_and_service_time_reads_its_own_histograms() {
        TimeSeriesResult result = series("b", Latency.SERVICE, windowStartMillis(8), windowStartMillis(14), 20);

        assertThat(result.points()).hasSize(3);
        TimeSeriesResult.Point first = result.points().getFirst();
        List<Long> raw = fleet.serviceNanos(List.of("b"), 8, 10);
        assertThat(first.latency().count()).isEqualTo(raw.size());
        assertWithinPrecision(first.latency().quantilesMillis().get("0.99"), TestWindows.exactQuantile(raw, 0.99));
        assertThat(result.points().get(1).latency().maxMillis()).as("the 5 s outlier window")
                .isEqualTo(TestWindows.millis(TestWindows.serviceNanos(SampleFleet.OUTLIER_NANOS)));
        TimeSeriesResult.Point empty = result.points().get(2);
        assertThat(empty.windows()).isZero();
        assertThat(empty.count()).isZero();
        assertThat(empty.latency()).isEqualTo(LatencySummary.EMPTY);
    }

    @Test
    void without_a_step_the_finest_ladder_step_giving_at_most_360_points_is_chosen() {
        long to = windowStartMillis(10);
        assertThat(series(null, Latency.RESPONSE, to - 3_600_000L, to, 0).stepSeconds()).isEqualTo(10);
        assertThat(series(null, Latency.RESPONSE, to - 3_600_000L, to, 0).points()).hasSize(360);
        assertThat(series(null, Latency.RESPONSE, to - DAY_MILLIS, to, 0).stepSeconds()).isEqualTo(300);
        TimeSeriesResult month = series(null, Latency.RESPONSE, to - 31 * DAY_MILLIS, to, 0);
        assertThat(month.stepSeconds()).isEqualTo(10_800);
        assertThat(month.points()).hasSizeLessThanOrEqualTo(PercentileService.DEFAULT_STEPS);
        assertThat(month.fromMillis() % 10_800_000L).as("steps start at multiples of the step").isZero();
    }

    @Test
    void a_step_that_is_not_a_multiple_of_the_resolution_or_gives_too_many_points_is_invalid() {
        assertThatThrownBy(() -> series(null, Latency.RESPONSE, windowStartMillis(0), windowStartMillis(10), 15))
                .isInstanceOfSatisfying(InvalidQueryException.class, e -> {
                    assertThat(e.parameter()).isEqualTo("step");
                    assertThat(e.rule()).isEqualTo("must be a multiple of the resolution read, 10s");
                    assertThat(e.value()).isEqualTo("15s");
                });
        long to = windowStartMillis(10);
        assertThatThrownBy(() -> series(null, Latency.RESPONSE, to - DAY_MILLIS, to, 10))
                .isInstanceOfSatisfying(InvalidQueryException.class, e -> assertThat(e.rule())
                        .isEqualTo("gives 8640 steps over the range, more than the 1000 allowed"));
    }
}
