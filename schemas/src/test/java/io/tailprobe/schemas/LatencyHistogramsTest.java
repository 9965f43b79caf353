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
}
