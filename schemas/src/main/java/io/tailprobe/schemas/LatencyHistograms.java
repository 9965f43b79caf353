package io.tailprobe.schemas;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * How Tailprobe records latencies: HdrHistograms of nanoseconds with 3 significant digits and a
 * lowest discernible value of 1 µs, auto-resizing upwards. Every percentile read back is within
 * 0.1% of the true value (a true p99 of 20.000 ms reads between 19.98 and 20.02 ms), at any
 * resolution and across any number of merged hosts, because histograms add exactly.
 *
 * <p>Two of HdrHistogram's own encodings, both readable by its tools: the V2 encoding
 * ({@code encodeIntoByteBuffer}, ZigZag LEB128 counts with runs of empty buckets skipped) is what the
 * aggregator writes, since one host's window of a dozen samples is a few dozen bytes and Kafka's batch
 * compression does the rest; deflating each histogram on its own (the compressed encoding) costs
 * tens of µs and saves little. The compressed encoding ({@link #encode}) is for exports.
 * {@link #decode} reads either.
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
     * HdrHistogram's V2 encoding ({@code encodeIntoByteBuffer}) of a histogram whose non-empty buckets
     * are {@code indexes[0..size)} (HdrHistogram counts-array indexes, {@link #countsIndex}, ascending)
     * with these counts, written straight from the buckets without building one, so a window of a
     * dozen samples costs a few bytes, not a walk over thousands of empty buckets. Byte for byte
     * HdrHistogram's own output.
     */
    public static byte[] encodeBuckets(int[] indexes, long[] counts, int size) {
        if (size > 0 && valueAtIndex(indexes[size - 1]) > INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS) {
            Histogram histogram = newHistogram(); // beyond the initial range: HdrHistogram resizes, let it
            for (int i = 0; i < size; i++) {
                histogram.recordValueWithCount(valueAtIndex(indexes[i]), counts[i]);
            }
            ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
            int length = histogram.encodeIntoByteBuffer(buffer);
            return Arrays.copyOf(buffer.array(), length);
        }
        // sized exactly, from a first pass that only counts: no thread-local buffer to look up, no copy
        int payloadBytes = putCounts(null, indexes, counts, size);
        byte[] encoded = new byte[V2_HEADER_BYTES + payloadBytes];
        ByteBuffer.wrap(encoded).putInt(V2_ENCODING_COOKIE).putInt(payloadBytes).putInt(0)
                .putInt(NUMBER_OF_SIGNIFICANT_VALUE_DIGITS).putLong(LOWEST_DISCERNIBLE_VALUE_NANOS)
                .putLong(INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS).putDouble(1.0);
        putCounts(encoded, indexes, counts, size);
        return encoded;
    }

    /**
     * The V2 payload of these buckets: each count, a run of empty buckets before it as its negated
     * length (one empty bucket as a zero). Writes it into {@code encoded} after the header unless that
     * is null.
     *
     * @return its length in bytes
     */
    private static int putCounts(byte[] encoded, int[] indexes, long[] counts, int size) {
        int at = V2_HEADER_BYTES;
        int nextIndex = 0;
        for (int i = 0; i < size; i++) {
            int zeros = indexes[i] - nextIndex;
            if (zeros == 1) {
                at = putZigZag(encoded, at, 0);
            } else if (zeros > 1) {
                at = putZigZag(encoded, at, -zeros);
            }
            at = putZigZag(encoded, at, counts[i]);
            nextIndex = indexes[i] + 1;
        }
        if (size == 0) {
            at = putZigZag(encoded, at, 0); // an empty histogram encodes its one (empty) bucket 0
        }
        return at - V2_HEADER_BYTES;
    }

    /** Receives the non-empty buckets of an encoded histogram, in ascending index order. */
    @FunctionalInterface
    public interface BucketVisitor {
        void bucket(int countsIndex, long count);
    }

    /**
     * Calls {@code visitor} for every non-empty bucket of {@code encoded} (either encoding), reading
     * the counts straight from the bytes when they have {@link LatencyHistograms}' layout, so no
     * 128 KB histogram is allocated to read a dozen counts.
     *
     * @throws IllegalArgumentException when the bytes are neither of HdrHistogram's encodings
     */
    public static void forEachBucket(ByteBuffer encoded, BucketVisitor visitor) {
        ByteBuffer v2 = uncompressed(encoded);
        if (v2.getInt(v2.position() + 8) != 0 || v2.getInt(v2.position() + 12) != NUMBER_OF_SIGNIFICANT_VALUE_DIGITS
                || v2.getLong(v2.position() + 16) != LOWEST_DISCERNIBLE_VALUE_NANOS) {
            Histogram other = Histogram.decodeFromByteBuffer(v2, INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS);
            for (HistogramIterationValue value : other.recordedValues()) {
                visitor.bucket(countsIndex(value.getValueIteratedTo()), value.getCountAtValueIteratedTo());
            }
            return;
        }
        int payloadBytes = v2.getInt(v2.position() + 4);
        ByteBuffer payload = v2.duplicate().position(v2.position() + V2_HEADER_BYTES);
        payload.limit(payload.position() + payloadBytes);
        if (payload.hasArray()) {
            forEachBucket(payload.array(), payload.arrayOffset() + payload.position(),
                    payload.arrayOffset() + payload.limit(), visitor);
        } else { // a direct buffer: copied once, then read as an array
            byte[] copy = new byte[payload.remaining()];
            payload.get(copy);
            forEachBucket(copy, 0, copy.length, visitor);
        }
    }

    /**
     * The payload loop of {@link #forEachBucket(ByteBuffer, BucketVisitor)} over {@code bytes[from, to)}:
     * each count is HdrHistogram's zig-zag LEB128 ({@code ZigZagEncoding.getLong}), a negative one a run
     * of that many empty buckets. Reads the array directly: through {@code ByteBuffer.get} the bounds
     * checks were most of the cost of a query's decoding.
     */
    private static void forEachBucket(byte[] bytes, int from, int to, BucketVisitor visitor) {
        int at = from;
        int index = 0;
        while (at < to) {
            long v = 0;
            int shift = 0;
            byte b;
            do {
                if (at >= to) {
                    throw new BufferUnderflowException();
                }
                b = bytes[at++];
                if (shift == 56) {
                    v |= (long) (b & 0xFF) << 56;
                    break;
                }
                v |= (long) (b & 0x7F) << shift;
                shift += 7;
            } while (b < 0);
            long count = (v >>> 1) ^ -(v & 1);
            if (count < 0) {
                index += (int) -count;
            } else {
                if (count > 0) {
                    visitor.bucket(index, count);
                }
                index++;
            }
        }
    }

    /** The V2 encoding in {@code encoded}: itself, or inflated from the compressed encoding. */
    private static ByteBuffer uncompressed(ByteBuffer encoded) {
        if (encoded.remaining() < 8) {
            throw new IllegalArgumentException("not an HdrHistogram encoding: " + encoded.remaining() + " bytes");
        }
        int cookie = encoded.getInt(encoded.position());
        if (cookie == V2_ENCODING_COOKIE) {
            return encoded;
        }
        if (cookie != V2_COMPRESSED_ENCODING_COOKIE) {
            throw new IllegalArgumentException("not an HdrHistogram V2 encoding: cookie 0x" + Integer.toHexString(cookie));
        }
        int compressedLength = encoded.getInt(encoded.position() + 4);
        Inflater inflater = new Inflater();
        try {
            ByteBuffer compressed = encoded.duplicate().position(encoded.position() + COMPRESSED_HEADER_BYTES);
            inflater.setInput(compressed.limit(compressed.position() + compressedLength));
            ByteBuffer header = ByteBuffer.allocate(V2_HEADER_BYTES);
            inflater.inflate(header);
            ByteBuffer v2 = ByteBuffer.allocate(V2_HEADER_BYTES + header.getInt(4));
            v2.put(header.flip());
            inflater.inflate(v2);
            return v2.flip();
        } catch (DataFormatException | BufferUnderflowException e) {
            throw new IllegalArgumentException("not an HdrHistogram compressed encoding: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
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

    /**
     * HdrHistogram's ZigZag LEB128 (7 bits a byte, the ninth byte carries the last 8) at {@code at} in
     * {@code encoded}, or only its length when that is null.
     *
     * @return the position after it
     */
    private static int putZigZag(byte[] encoded, int at, long value) {
        long v = (value << 1) ^ (value >> 63);
        if (encoded == null) {
            int bits = 64 - Long.numberOfLeadingZeros(v | 1);
            return at + (bits > 56 ? 9 : (bits + 6) / 7);
        }
        for (int groups = 0; groups < 8; groups++) {
            if (v >>> 7 == 0) {
                encoded[at] = (byte) v;
                return at + 1;
            }
            encoded[at++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        encoded[at] = (byte) v;
        return at + 1;
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

    /**
     * Reads either of HdrHistogram's V2 encodings (plain or compressed).
     *
     * @throws IllegalArgumentException when the bytes are neither
     */
    public static Histogram decode(ByteBuffer encoded) {
        Histogram histogram = Histogram.decodeFromByteBuffer(uncompressed(encoded).duplicate(),
                INITIAL_HIGHEST_TRACKABLE_VALUE_NANOS);
        histogram.setAutoResize(true);
        return histogram;
    }

    public static Histogram decode(byte[] encoded) {
        return decode(ByteBuffer.wrap(encoded));
    }
}
