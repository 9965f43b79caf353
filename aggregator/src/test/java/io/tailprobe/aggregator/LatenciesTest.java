package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.LatencyHistograms;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatenciesTest {
    @Test
    void few_or_many_values_added_and_merged_encode_like_one_histogram_of_them_all() {
        Random random = new Random(5);
        Histogram expected = LatencyHistograms.newHistogram();
        Latencies rollup = new Latencies();
        for (int window = 0; window < 40; window++) {
            Latencies base = new Latencies();
            int samples = window % 10 == 0 ? 1_000 : 12; // a fleet-wide window now and then, one host's otherwise
            for (int i = 0; i < samples; i++) {
                long nanos = (long) (Math.exp(random.nextGaussian()) * 3_000_000);
                base.record(nanos);
                LatencyHistograms.record(expected, nanos);
            }
            rollup.addAll(base);
        }

        Histogram decoded = LatencyHistograms.decode(rollup.encode());

        assertThat(decoded.getTotalCount()).isEqualTo(4 * 1_000 + 36 * 12);
        assertThat(decoded).isEqualTo(expected);
        assertThat(decoded.getValueAtPercentile(99.9)).isEqualTo(expected.getValueAtPercentile(99.9));
    }

    @Test
    void a_window_read_back_from_the_store_keeps_recording() {
        Latencies latencies = new Latencies();
        latencies.record(1_000_000);
        Latencies restored = Latencies.decode(latencies.encode());
        restored.record(2_000_000);

        Histogram decoded = LatencyHistograms.decode(restored.encode());

        assertThat(decoded.getTotalCount()).isEqualTo(2);
        assertThat(decoded.getMaxValue()).isEqualTo(decoded.highestEquivalentValue(2_000_000));
    }
}
