package io.tailprobe.query.percentile;

import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One latency of some windows added up: their HdrHistograms (addition is exact) and, for response and
 * service time, their exact extremes. Each window's encoded buckets are read and added one by one, so
 * no histogram is allocated per window. Reusable: {@link #reset()} keeps the histogram's counts array, so
 * a time series of 360 steps allocates one, not 360.
 */
public final class MergedLatency {
    private final Latency latency;
    /**
     * Starts at the smallest range HdrHistogram allows (values up to 1 ms, 2,048 buckets: 16 KB) and grows,
     * once, to the largest value added (56 KB for 20 ms), where {@link LatencyHistograms#newHistogram()}'s
     * 10 s range would allocate and zero 128 KB per latency per request. The counts, and so every figure
     * read from them, are the same.
     */
    private final Histogram histogram = new Histogram(LatencyHistograms.LOWEST_DISCERNIBLE_VALUE_NANOS,
            2 * LatencyHistograms.LOWEST_DISCERNIBLE_VALUE_NANOS, LatencyHistograms.NUMBER_OF_SIGNIFICANT_VALUE_DIGITS);

    {
        histogram.setAutoResize(true);
    }
    private Long minNanos;
    private Long maxNanos;

    public MergedLatency(Latency latency) {
        this.latency = latency;
    }

    public MergedLatency add(List<WindowedHistogram> windows) {
        windows.forEach(this::add);
        return this;
    }

    public MergedLatency add(WindowedHistogram window) {
        ByteBuffer encoded = latency.histogram(window);
        if (encoded != null && encoded.hasRemaining()) {
            LatencyHistograms.forEachBucket(encoded, this::addBucket);
        }
        Long windowMin = latency.exactMinNanos(window);
        if (windowMin != null) {
            minNanos = minNanos == null ? windowMin : Math.min(minNanos, windowMin);
        }
        Long windowMax = latency.exactMaxNanos(window);
        if (windowMax != null) {
            maxNanos = maxNanos == null ? windowMax : Math.max(maxNanos, windowMax);
        }
        return this;
    }

    /**
     * Adds one bucket's count straight from the encoded bytes: decoding a window into an HdrHistogram of
     * its own would allocate and zero all ~16,000 buckets (128 KB) and then walk them to add a few hundred.
     * The bucket's lowest value lands in that same bucket, so the counts, extremes and quantiles are those
     * of {@code Histogram.add}.
     */
    private void addBucket(int countsIndex, long count) {
        histogram.recordValueWithCount(LatencyHistograms.valueAtIndex(countsIndex), count);
    }

    public MergedLatency reset() {
        histogram.reset();
        minNanos = null;
        maxNanos = null;
        return this;
    }

    /** The merged histogram, nanoseconds at 3 significant digits; live, so copy it to keep it past a reset. */
    public Histogram histogram() {
        return histogram;
    }

    public long count() {
        return histogram.getTotalCount();
    }

    /**
     * HdrHistogram's {@code getMean()}, added up in the same order and so the same double, over the buckets
     * between the smallest and the largest value only: its iterator costs tens of ns for each of the
     * thousands of buckets below the smallest value, which made the mean the most expensive part of a
     * one-window answer.
     */
    public double meanNanos() {
        long total = histogram.getTotalCount();
        if (total == 0) {
            return 0.0;
        }
        double totalNanos = 0;
        int last = LatencyHistograms.countsIndex(histogram.getMaxValue());
        for (int index = LatencyHistograms.countsIndex(histogram.getMinValue()); index <= last; index++) {
            long value = LatencyHistograms.valueAtIndex(index);
            long count = histogram.getCountAtValue(value);
            if (count > 0) {
                totalNanos += histogram.medianEquivalentValue(value) * (double) count;
            }
        }
        return totalNanos / total;
    }

    /** The exact minimum where stored, else the histogram's (within 0.1%). */
    public long minNanos() {
        return minNanos != null ? minNanos : histogram.getMinValue();
    }

    /** The exact maximum where stored, else the histogram's (within 0.1%). */
    public long maxNanos() {
        return maxNanos != null ? maxNanos : histogram.getMaxValue();
    }

    /** The value at {@code quantile}, clamped to the exact extremes: q=0 is the minimum, q=1 the maximum. */
    public long valueAtQuantileNanos(double quantile) {
        long min = minNanos();
        long max = maxNanos();
        return quantile <= 0.0 ? min
                : quantile >= 1.0 ? max
                : Math.clamp(histogram.getValueAtPercentile(quantile * 100.0), min, max);
    }

    public LatencySummary summary(List<Double> quantiles) {
        long count = count();
        if (count == 0) {
            return LatencySummary.EMPTY;
        }
        Map<String, Double> quantilesMillis = new LinkedHashMap<>();
        for (double quantile : quantiles) {
            quantilesMillis.put(PercentileService.quantileKey(quantile),
                    PercentileService.millis(valueAtQuantileNanos(quantile)));
        }
        return new LatencySummary(count, PercentileService.millis(minNanos()), PercentileService.millis(maxNanos()),
                PercentileService.millis(meanNanos()), quantilesMillis);
    }
}
