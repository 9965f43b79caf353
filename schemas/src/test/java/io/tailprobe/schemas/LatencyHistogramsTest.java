package io.tailprobe.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
    void buckets_encode_byte_for_byte_as_hdrhistogram_for_counts_of_every_varint_length_and_long_empty_runs() {
        long[] countsToTry = {1, 63, 64, 127, 128, 8_191, 8_192, 1L << 20, 1L << 27, 1L << 34, 1L << 41, 1L << 48,
                (1L << 55) - 1, 1L << 55, 1L << 56, 1L << 58};
        int[] indexes = new int[countsToTry.length];
        Histogram histogram = LatencyHistograms.newHistogram();
        int index = 3;
        for (int i = 0; i < countsToTry.length; i++) {
            indexes[i] = index;
            histogram.recordValueWithCount(LatencyHistograms.valueAtIndex(index), countsToTry[i]);
            index += 1 + i * i * 37; // gaps of 0, 1 and up to thousands of empty buckets
        }
        ByteBuffer theirs = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int theirLength = histogram.encodeIntoByteBuffer(theirs);

        assertThat(LatencyHistograms.encodeBuckets(indexes, countsToTry, countsToTry.length))
                .isEqualTo(Arrays.copyOf(theirs.array(), theirLength));
        assertThat(LatencyHistograms.encodeBuckets(new int[0], new long[0], 0))
                .isEqualTo(encodedByHdrHistogram(LatencyHistograms.newHistogram()));
    }

    private static byte[] encodedByHdrHistogram(Histogram histogram) {
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        return Arrays.copyOf(buffer.array(), histogram.encodeIntoByteBuffer(buffer));
    }

    @Test
    void buckets_read_from_an_array_and_from_any_buffer_are_hdrhistograms_own() {
        Random random = new Random(5);
        for (int round = 0; round < 50; round++) {
            Histogram histogram = LatencyHistograms.newHistogram();
            for (int i = 0; i < 200; i++) {
                // counts of every length of zig-zag varint, the nine-byte one (2^55 and up) included, and a
                // total that still fits a long (HdrHistogram's iteration stops at its total count)
                long count = i == 0 ? (1L << 55) + random.nextInt(1_000) : 1L + (random.nextLong() >>> (16 + random.nextInt(48)));
                histogram.recordValueWithCount(1_000L + (long) (Math.exp(random.nextGaussian() * 2) * 1_000_000),
                        count);
            }
            List<String> expected = new ArrayList<>();
            for (var value : histogram.recordedValues()) {
                expected.add(LatencyHistograms.countsIndex(value.getValueIteratedTo()) + "="
                        + value.getCountAtValueIteratedTo());
            }
            ByteBuffer heap = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
            histogram.encodeIntoByteBuffer(heap);
            heap.flip();
            ByteBuffer direct = ByteBuffer.allocateDirect(heap.remaining()).put(heap.duplicate()).flip();
            // an array with bytes before the encoding: the read must start at the buffer's own position
            ByteBuffer offset = ByteBuffer.wrap(new byte[heap.remaining() + 7], 3, heap.remaining()).slice()
                    .put(heap.duplicate()).flip();

            for (ByteBuffer encoded : new ByteBuffer[] {heap, direct, offset}) {
                List<String> read = new ArrayList<>();
                LatencyHistograms.forEachBucket(encoded.duplicate(), (index, count) -> read.add(index + "=" + count));
                assertThat(read).as("round %d, %s", round, encoded).isEqualTo(expected);
            }
        }
    }
}
