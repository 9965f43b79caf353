package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencyHistograms;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.HdrHistogram.PackedHistogram;

/**
 * The latencies of one histogram of an open window. One host's window of a series holds a dozen
 * samples (10 s of a probe a second), so they are kept as a plain array of values: recording is an
 * append, adding into a rollup is a loop, encoding is a sort and a few bytes
 * ({@link LatencyHistograms#encodeValues}). Past {@link #MAX_VALUES} (fleet-wide windows, long
 * rollups) they move into a packed HdrHistogram, whose memory grows with the buckets in use.
 * Either way the encoding is HdrHistogram's, and the same values give the same bytes.
 */
final class Latencies {
    static final int MAX_VALUES = 256;
    private static final long[] NONE = new long[0];

    private long[] values = NONE;
    private int size;
    private PackedHistogram histogram;

    static Latencies decode(ByteBuffer encoded) {
        Latencies latencies = new Latencies();
        latencies.histogram = LatencyHistograms.decodePacked(encoded);
        return latencies;
    }

    void record(long nanos) {
        if (histogram != null) {
            LatencyHistograms.record(histogram, nanos);
            return;
        }
        if (size == MAX_VALUES) {
            toHistogram();
            LatencyHistograms.record(histogram, nanos);
            return;
        }
        if (size == values.length) {
            values = Arrays.copyOf(values, Math.max(8, size * 2));
        }
        values[size++] = nanos;
    }

    /** Adds every latency of {@code other} (histograms add exactly). */
    void addAll(Latencies other) {
        if (other.histogram == null) {
            for (int i = 0; i < other.size; i++) {
                record(other.values[i]);
            }
            return;
        }
        if (histogram == null) {
            toHistogram();
        }
        histogram.add(other.histogram);
    }

    /** HdrHistogram's compressed encoding. */
    ByteBuffer encode() {
        return ByteBuffer.wrap(histogram != null ? LatencyHistograms.encode(histogram)
                : LatencyHistograms.encodeValues(values, size));
    }

    private void toHistogram() {
        histogram = LatencyHistograms.newPackedHistogram();
        for (int i = 0; i < size; i++) {
            LatencyHistograms.record(histogram, values[i]);
        }
        values = NONE;
        size = 0;
    }
}
