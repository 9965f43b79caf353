package io.tailprobe.standalone.replay;

import io.tailprobe.aggregator.OpenWindow;
import io.tailprobe.aggregator.SampleWindows;
import io.tailprobe.query.percentile.Latency;
import io.tailprobe.query.percentile.MergedLatency;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Adds samples into windows of any size (whole milliseconds) with the aggregator's own code
 * ({@link SampleWindows} picks the window, {@link OpenWindow} records the sample) and reads each with the
 * query API's ({@link MergedLatency}), so a replay at the aggregator's window size gives, window for
 * window, the counts, extremes, histogram and quantiles the aggregator stored and the query API answers.
 * Fleet-wide windows add each sample straight in; the aggregator sums its hosts' windows instead, which
 * gives the same buckets (histogram addition is exact).
 *
 * <p>Example: 1 min windows over 14:00-15:00 of two series, fleet-wide, give 120 rows: per series and
 * minute, sample and OK counts, min, p50 … p99.9 and max.
 */
final class Reaggregation {
    /** Sorts by series, host, then time, as the aggregator's keys do. */
    private static final Comparator<WindowId> ORDER = Comparator.comparing(WindowId::series)
            .thenComparing(WindowId::host).thenComparingLong(WindowId::startMillis);

    private final SampleWindows windows;
    /**
     * The resolution in the key {@link OpenWindow} takes: whole seconds, at least 1. A window of 500 ms has
     * the nominal resolution 1 s there, which nothing read from it uses: its end comes from {@link #windows}.
     */
    private final int keySeconds;
    private final boolean perHost;
    private final TreeMap<WindowId, OpenWindow> open = new TreeMap<>(ORDER);

    private record WindowId(String series, String host, long startMillis) {}

    Reaggregation(Duration window, boolean perHost) {
        this.windows = new SampleWindows(window);
        this.keySeconds = (int) Math.max(1, window.toSeconds());
        this.perHost = perHost;
    }

    /** Adds a sample the aggregator's rules accept. */
    void add(LatencySample sample) {
        SeriesKey series = SeriesKey.of(sample);
        String host = perHost ? sample.getHost() : HistogramKey.FLEET;
        long startMillis = windows.startMillis(sample);
        open.computeIfAbsent(new WindowId(series.encode(), host, startMillis),
                id -> OpenWindow.empty(new HistogramKey(series, host, keySeconds, startMillis))).add(sample);
    }

    int windowCount() {
        return open.size();
    }

    /** Every window, by series, host and start, read for {@code latency} at {@code quantiles}. */
    List<WindowRow> rows(Latency latency, List<Double> quantiles) {
        List<WindowRow> rows = new ArrayList<>(open.size());
        MergedLatency merged = new MergedLatency(latency);
        for (OpenWindow window : open.values()) {
            WindowedHistogram record = window.toRecord();
            merged.reset().add(record);
            long count = merged.count();
            long[] quantileNanos = new long[count == 0 ? 0 : quantiles.size()];
            for (int i = 0; i < quantileNanos.length; i++) {
                quantileNanos[i] = merged.valueAtQuantileNanos(quantiles.get(i));
            }
            HistogramKey key = window.key();
            long startMillis = key.windowStartMillis();
            long endMillis = windows.endMillis(startMillis);
            Histogram histogram = merged.histogram().copy();
            histogram.setTag(key.series().encode() + "|" + key.host());
            histogram.setStartTimeStamp(startMillis);
            histogram.setEndTimeStamp(endMillis);
            rows.add(new WindowRow(key.series(), key.host(), startMillis, endMillis, record.getSampleCount(),
                    Collections.unmodifiableMap(new TreeMap<>(record.getOutcomeCounts())), count,
                    count == 0 ? null : merged.minNanos(), count == 0 ? null : merged.maxNanos(), quantileNanos,
                    histogram));
        }
        return rows;
    }
}
