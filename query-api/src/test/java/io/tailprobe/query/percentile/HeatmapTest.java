package io.tailprobe.query.percentile;

import static io.tailprobe.query.SampleFleet.HOSTS;
import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.LatencyHistograms;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class HeatmapTest {
    private final SampleFleet fleet = new SampleFleet();
    private final PercentileService service = new PercentileService(fleet.fill(new InMemoryHistogramStore()), 1_000);

    private HeatmapResult heatmap(long fromMillis, long toMillis, long stepSeconds, int bucketsPerDecade) {
        return service.heatmap(new HeatmapQuery(new SeriesRange("demo-tcp", "tcp", "tcp", null, fromMillis, toMillis,
                0), Latency.RESPONSE, stepSeconds, bucketsPerDecade));
    }

    @Test
    void bounds_are_tenths_of_a_decade_from_below_the_smallest_to_at_or_above_the_largest_latency() {
        HeatmapResult result = heatmap(windowStartMillis(0), windowStartMillis(10), 30, 10);

        List<Long> raw = fleet.responseNanos(HOSTS, 0, 10);
        double minMillis = raw.stream().mapToLong(Long::longValue).min().orElseThrow() / 1e6;
        double maxMillis = raw.stream().mapToLong(Long::longValue).max().orElseThrow() / 1e6;
        List<Double> bounds = result.boundsMillis();
        // the smallest sample is 1 ms exactly, in the HdrHistogram bucket 0.999936..1.000447 ms: above bound 1.0
        assertThat(bounds.getFirst()).isLessThanOrEqualTo(minMillis);
        assertThat(bounds.get(1)).isGreaterThan(minMillis);
        assertThat(bounds.getLast()).isGreaterThanOrEqualTo(maxMillis);
        assertThat(bounds.get(bounds.size() - 2)).isLessThan(maxMillis * 1.001);
        for (int i = 1; i < bounds.size(); i++) {
            assertThat(bounds.get(i) / bounds.get(i - 1)).isCloseTo(Math.pow(10, 0.1), within(1e-6));
        }
        assertThat(bounds).contains(1.0, 10.0, 100.0);
        assertThat(result.columns()).hasSize(4).allSatisfy(c -> assertThat(c.counts()).hasSize(bounds.size() - 1));
    }

    @Test
    void each_column_counts_every_sample_of_its_step_in_the_bucket_its_histogram_bucket_lies_in() {
        HeatmapResult result = heatmap(windowStartMillis(0), windowStartMillis(10), 50, 10);

        Histogram buckets = LatencyHistograms.newHistogram();
        for (int column = 0; column < 2; column++) {
            List<Long> raw = fleet.responseNanos(HOSTS, column * 5, column * 5 + 5);
            long[] expected = new long[result.boundsMillis().size() - 1];
            long nearABound = 0;
            long[] byRawValue = new long[expected.length];
            for (long nanos : raw) {
                expected[bucketOf(result.boundsMillis(), buckets.highestEquivalentValue(nanos))]++;
                byRawValue[bucketOf(result.boundsMillis(), nanos)]++;
                for (double bound : result.boundsMillis()) {
                    nearABound += Math.abs(nanos / 1e6 - bound) <= bound * 0.001 ? 1 : 0;
                }
            }
            HeatmapResult.Column actual = result.columns().get(column);
            assertThat(actual.startMillis()).isEqualTo(windowStartMillis(column * 5));
            assertThat(actual.count()).isEqualTo(raw.size());
            assertThat(actual.counts()).containsExactly(expected);
            long moved = 0;
            for (int i = 0; i < expected.length; i++) {
                moved += Math.abs(expected[i] - byRawValue[i]);
            }
            assertThat(moved).as("only samples within 0.1%% of a bound may land in the next bucket")
                    .isLessThanOrEqualTo(2 * nearABound);
        }
    }

    @Test
    void a_range_without_samples_has_no_bounds_and_empty_columns() {
        HeatmapResult result = heatmap(windowStartMillis(20), windowStartMillis(26), 20, 5);

        assertThat(result.boundsMillis()).isEmpty();
        assertThat(result.columns()).hasSize(3).allSatisfy(c -> {
            assertThat(c.count()).isZero();
            assertThat(c.counts()).isEmpty();
        });
    }

    @Test
    void bound_k_is_ten_to_the_k_over_n_milliseconds_and_index_finds_the_first_bound_at_or_above_a_value() {
        assertThat(HeatmapBounds.boundNanos(0, 10)).isEqualTo(1_000_000L);
        assertThat(HeatmapBounds.boundNanos(3, 10)).isEqualTo(1_995_262L);
        assertThat(HeatmapBounds.boundNanos(-10, 10)).isEqualTo(100_000L);
        assertThat(HeatmapBounds.index(1_000_000L, 10)).isZero();
        assertThat(HeatmapBounds.index(1_000_001L, 10)).isEqualTo(1);
        assertThat(HeatmapBounds.index(999_999L, 10)).isZero();
        assertThat(HeatmapBounds.index(511L, 50)).isEqualTo(-164);
    }

    /** The bucket j with bounds[j] < nanos <= bounds[j + 1]. */
    private static int bucketOf(List<Double> boundsMillis, long nanos) {
        for (int j = 0; j < boundsMillis.size() - 1; j++) {
            if (nanos <= Math.round(boundsMillis.get(j + 1) * 1e6)) {
                return j;
            }
        }
        throw new AssertionError(nanos + " ns is above every bound");
    }
}
