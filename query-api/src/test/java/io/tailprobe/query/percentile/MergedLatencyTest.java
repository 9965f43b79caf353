package io.tailprobe.query.percentile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.TestWindows;
import io.tailprobe.schemas.BucketCounts;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** Windows added bucket by bucket from their encoded bytes give what decoding and {@code Histogram.add} gave. */
class MergedLatencyTest {
    private static final SeriesKey SERIES = new SeriesKey("db", "tcp", "tcp");
    private static final List<Double> QUANTILES = List.of(0.0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0);

    @Test
    void merging_from_the_encoded_buckets_equals_decoding_and_adding_whole_histograms() {
        Random random = new Random(11);
        List<WindowedHistogram> windows = new ArrayList<>();
        for (int w = 0; w < 50; w++) {
            long[] responseNanos = new long[random.nextInt(200)];
            for (int i = 0; i < responseNanos.length; i++) {
                // 1 µs .. 30 s: across HdrHistogram's sub-buckets, and past its initial 10 s range
                responseNanos[i] = (long) Math.exp(7 + random.nextDouble() * 17);
            }
            windows.add(TestWindows.window(SERIES, "*", w * TestWindows.RESOLUTION_MILLIS, responseNanos, 0));
        }
        // the aggregator's own V2 encoding, straight from the buckets, besides HdrHistogram's compressed one
        BucketCounts buckets = new BucketCounts();
        buckets.record(3_000L);
        buckets.record(250_000_000L);
        windows.add(WindowedHistogram.newBuilder(windows.getFirst())
                .setResponseTimeHistogram(ByteBuffer.wrap(buckets.encode())).build());

        Histogram added = LatencyHistograms.newHistogram();
        windows.forEach(window -> added.add(LatencyHistograms.decode(window.getResponseTimeHistogram())));
        MergedLatency merged = new MergedLatency(Latency.RESPONSE).add(windows);

        assertThat(merged.histogram()).isEqualTo(added);
        assertThat(merged.count()).isEqualTo(added.getTotalCount());
        assertThat(merged.meanNanos()).isEqualTo(added.getMean());
        assertThat(new MergedLatency(Latency.RESPONSE).meanNanos()).isZero();
        assertThat(merged.histogram().getMinValue()).isEqualTo(added.getMinValue());
        assertThat(merged.histogram().getMaxValue()).isEqualTo(added.getMaxValue());
        for (double quantile : QUANTILES) {
            assertThat(merged.histogram().getValueAtPercentile(quantile * 100))
                    .as("q %s", quantile).isEqualTo(added.getValueAtPercentile(quantile * 100));
        }
    }
}
