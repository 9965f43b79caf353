package io.tailprobe.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatencyHistogramsTest {
    @Test
    void our_encoding_is_byte_for_byte_hdrhistograms_compressed_encoding() {
        Histogram histogram = LatencyHistograms.newHistogram();
        Random random = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            LatencyHistograms.record(histogram, (long) (Math.exp(random.nextGaussian()) * 2_000_000));
        }
        ByteBuffer theirs = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int theirLength = histogram.encodeIntoCompressedByteBuffer(theirs);

        byte[] ours = LatencyHistograms.encode(histogram);

        assertThat(ours).isEqualTo(Arrays.copyOf(theirs.array(), theirLength));
        assertThat(LatencyHistograms.decode(ours)).isEqualTo(histogram);
    }

    @Test
    void values_encode_byte_for_byte_like_a_histogram_holding_them() {
        Random random = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int size = trial == 0 ? 0 : 1 + random.nextInt(trial < 200 ? 40 : 3_000);
            long[] values = new long[size];
            Histogram histogram = LatencyHistograms.newHistogram();
            for (int i = 0; i < size; i++) {
                values[i] = switch (random.nextInt(5)) {
                    case 0 -> random.nextInt(2_000);                              // below and at the unit
                    case 1 -> values[random.nextInt(i + 1)];                      // repeats
                    case 2 -> (long) (random.nextDouble() * 10_000_000_000L);     // up to the initial range
                    default -> (long) (Math.exp(random.nextGaussian() * 2) * 1_000_000);
                };
                LatencyHistograms.record(histogram, values[i]);
            }

            byte[] ours = LatencyHistograms.encodeValues(values, size);

            assertThat(ours).as("trial %d, %d values", trial, size).isEqualTo(LatencyHistograms.encode(histogram));
        }
    }

    @Test
    void values_beyond_the_initial_range_still_decode_to_the_same_histogram() {
        long[] values = {5, 20_000_000_000L, 3_600_000_000_000L};
        Histogram histogram = LatencyHistograms.newHistogram();
        for (long value : values) {
            LatencyHistograms.record(histogram, value);
        }

        Histogram decoded = LatencyHistograms.decode(LatencyHistograms.encodeValues(values.clone(), values.length));

        assertThat(decoded).isEqualTo(histogram);
        assertThat(decoded.getMaxValue()).isEqualTo(histogram.getMaxValue());
    }
}
