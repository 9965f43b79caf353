package io.tailprobe.schemas;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.Histogram;

/**
 * How Tailprobe records latencies: HdrHistograms of nanoseconds with 3 significant digits and a
 * lowest discernible value of 1 µs, auto-resizing upwards. Every percentile read back is within
 * 0.1% of the true value (a true p99 of 20.000 ms reads between 19.98 and 20.02 ms), at any
 * resolution and across any number of merged hosts, because histograms add exactly.
 *
 * <p>The codec is HdrHistogram's own compressed encoding, so exported bytes can be read by
 * HdrHistogram's tools.
 */
public final class LatencyHistograms {
    public static final long LOWEST_DISCERNIBLE_VALUE_NANOS = 1_000L;
    /** Initial range; histograms grow past it on demand. */
    public static final long INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS = 10_000_000_000L;
    public static final int NUMBER_OF_SIGNIFICANT_VALUE_DIGITS = 3;

    private LatencyHistograms() {}

    public static Histogram newHistogram() {
        Histogram histogram = new Histogram(LOWEST_DISCERNIBLE_VALUE_NANOS,
                INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS, NUMBER_OF_SIGNIFICANT_VALUE_DIGITS);
        histogram.setAutoResize(true);
        return histogram;
    }

    /** Records one latency; values below the lowest discernible value count as that value. */
    public static void record(Histogram histogram, long valueNanos) {
        histogram.recordValue(Math.max(valueNanos, 0L));
    }

    /**
     * HdrHistogram's compressed encoding (readable by {@code decodeFromCompressedByteBuffer} and
     * HdrHistogram's tools), byte for byte what {@code encodeIntoCompressedByteBuffer} writes: a
     * cookie, the deflated length, then the uncompressed V2 encoding deflated. Done here because
     * HdrHistogram's own method keeps its uncompressed buffer (as large as the histogram's whole
     * range) on every histogram it ever encoded and allocates a native Deflater per call; here both
     * are reused per thread.
     */
    public static byte[] encode(AbstractHistogram histogram) {
        EncodeBuffers buffers = EncodeBuffers.forThisThread();
        ByteBuffer uncompressed = buffers.uncompressed(histogram.getNeededByteBufferCapacity());
        int uncompressedLength = histogram.encodeIntoByteBuffer(uncompressed);
        return deflate(buffers, uncompressedLength);
    }

    private static byte[] deflate(EncodeBuffers buffers, int uncompressedLength) {
        ByteBuffer uncompressed = buffers.uncompressed;
        Deflater deflater = buffers.deflater;
        deflater.reset();
        deflater.setInput(uncompressed.array(), 0, uncompressedLength);
        deflater.finish();
        byte[] compressed = buffers.compressed(uncompressedLength + 64);
        int compressedLength = deflater.deflate(compressed, COMPRESSED_HEADER_BYTES,
                compressed.length - COMPRESSED_HEADER_BYTES);
        if (!deflater.finished()) {
            throw new IllegalStateException("deflated histogram larger than its uncompressed encoding");
        }
        ByteBuffer.wrap(compressed).putInt(V2_COMPRESSED_ENCODING_COOKIE).putInt(compressedLength);
        byte[] encoded = Arrays.copyOf(compressed, COMPRESSED_HEADER_BYTES + compressedLength);
        if (buffers.oneOff) {
            deflater.end(); // its native memory now, not when the cleaner gets to it
        }
        return encoded;
    }

    /**
     * {@link #encode} of a histogram whose non-empty buckets are {@code indexes[0..size)} (HdrHistogram
     * counts-array indexes, {@link #countsIndex}, ascending) with these counts, without building one:
     * the V2 encoding is written straight from the buckets, so a window of a dozen samples costs a few
     * bytes, not a walk over thousands of empty buckets. Byte for byte HdrHistogram's own output.
     */
    public static byte[] encodeBuckets(int[] indexes, long[] counts, int size) {
        if (size > 0 && valueAtIndex(indexes[size - 1]) > INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS) {
            Histogram histogram = newHistogram(); // beyond the initial range: HdrHistogram resizes, let it
            for (int i = 0; i < size; i++) {
                histogram.recordValueWithCount(valueAtIndex(indexes[i]), counts[i]);
            }
            return encode(histogram);
        }
        EncodeBuffers buffers = EncodeBuffers.forThisThread();
        ByteBuffer uncompressed = buffers.uncompressed(V2_HEADER_BYTES + (2 * size + 1) * MAX_ZIGZAG_BYTES);
        uncompressed.putInt(V2_ENCODING_COOKIE).putInt(0).putInt(0).putInt(NUMBER_OF_SIGNIFICANT_VALUE_DIGITS)
                .putLong(LOWEST_DISCERNIBLE_VALUE_NANOS).putLong(INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS).putDouble(1.0);
        int nextIndex = 0;
        for (int i = 0; i < size; i++) {
            int zeros = indexes[i] - nextIndex;
            if (zeros == 1) {
                putZigZag(uncompressed, 0);
            } else if (zeros > 1) {
                putZigZag(uncompressed, -zeros);
            }
            putZigZag(uncompressed, counts[i]);
            nextIndex = indexes[i] + 1;
        }
        if (size == 0) {
            putZigZag(uncompressed, 0); // an empty histogram encodes its one (empty) bucket 0
        }
        uncompressed.putInt(4, uncompressed.position() - V2_HEADER_BYTES);
        return deflate(buffers, uncompressed.position());
    }

    /** The lowest value of bucket {@code index}: recording it counts in that bucket. */
    public static long valueAtIndex(int index) {
        int bucketIndex = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
        int subBucketIndex = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
        if (bucketIndex < 0) {
            subBucketIndex -= SUB_BUCKET_HALF_COUNT;
            bucketIndex = 0;
        }
        return (long) subBucketIndex << (bucketIndex + UNIT_MAGNITUDE);
    }

    /** HdrHistogram's countsArrayIndex for lowest discernible value 1000 and 3 significant digits. */
    public static int countsIndex(long value) {
        int bucketIndex = LEADING_ZERO_COUNT_BASE - Long.numberOfLeadingZeros(value | SUB_BUCKET_MASK);
        int subBucketIndex = (int) (value >>> (bucketIndex + UNIT_MAGNITUDE));
        return ((bucketIndex + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + subBucketIndex - SUB_BUCKET_HALF_COUNT;
    }

    /** HdrHistogram's ZigZag LEB128: 7 bits a byte, the ninth byte carries the last 8. */
    private static void putZigZag(ByteBuffer buffer, long value) {
        long v = (value << 1) ^ (value >> 63);
        for (int groups = 0; groups < 8; groups++) {
            if (v >>> 7 == 0) {
                buffer.put((byte) v);
                return;
            }
            buffer.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        buffer.put((byte) v);
    }

    /** floor(log2(1000)): the low bits below the lowest discernible value. */
    private static final int UNIT_MAGNITUDE = 9;
    /** log2 of half of 2048 sub-buckets (the power of two above 2 × 10^3). */
    private static final int SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10;
    private static final int SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
    private static final long SUB_BUCKET_MASK = ((1L << (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)) - 1) << UNIT_MAGNITUDE;
    private static final int LEADING_ZERO_COUNT_BASE = 64 - UNIT_MAGNITUDE - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
    /** Cookie, payload length, normalizing offset, digits, lowest, highest, conversion ratio. */
    private static final int V2_HEADER_BYTES = 40;
    private static final int MAX_ZIGZAG_BYTES = 9;
    /** HdrHistogram's V2 (uncompressed) cookie with a word size of 8. */
    private static final int V2_ENCODING_COOKIE = 0x1c849303 | 0x10;

    /** HdrHistogram's V2 compressed cookie with a word size of 8 (AbstractHistogram.getCompressedEncodingCookie). */
    private static final int V2_COMPRESSED_ENCODING_COOKIE = 0x1c849304 | 0x10;
    private static final int COMPRESSED_HEADER_BYTES = 8;
    private static final ThreadLocal<EncodeBuffers> ENCODE_BUFFERS = ThreadLocal.withInitial(() -> new EncodeBuffers(false));

    /** One thread's scratch space for {@link #encode}. */
    private static final class EncodeBuffers {
        final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        /** For one call: a virtual thread gets no thread-local (there may be millions of them). */
        final boolean oneOff;

        private EncodeBuffers(boolean oneOff) {
            this.oneOff = oneOff;
        }

        static EncodeBuffers forThisThread() {
            return Thread.currentThread().isVirtual() ? new EncodeBuffers(true) : ENCODE_BUFFERS.get();
        }

        ByteBuffer uncompressed = ByteBuffer.allocate(0);
        private byte[] compressed = new byte[0];

        ByteBuffer uncompressed(int capacity) {
            if (uncompressed.capacity() < capacity) {
                uncompressed = ByteBuffer.allocate(capacity).order(ByteOrder.BIG_ENDIAN);
            }
            uncompressed.clear();
            return uncompressed;
        }

        byte[] compressed(int capacity) {
            if (compressed.length < capacity) {
                compressed = new byte[capacity];
            }
            return compressed;
        }
    }

    public static Histogram decode(ByteBuffer compressed) {
        try {
            Histogram histogram = Histogram.decodeFromCompressedByteBuffer(compressed.duplicate(),
                    INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS);
            histogram.setAutoResize(true);
            return histogram;
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("not an HdrHistogram compressed encoding: " + e.getMessage(), e);
        }
    }

    public static Histogram decode(byte[] compressed) {
        return decode(ByteBuffer.wrap(compressed));
    }
}
