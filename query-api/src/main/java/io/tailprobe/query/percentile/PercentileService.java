package io.tailprobe.query.percentile;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.WindowedHistogram;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Answers questions about latency by adding up stored windows: HdrHistogram addition is exact, so the
 * p99 of an hour merged from 360 fleet-wide 10 s windows is the p99 of every sample of that hour, within
 * the histograms' 0.1% precision. Which windows a range reads is {@link SeriesMatch}'s business;
 * without a protocol, every protocol of the target and probe type is merged (e.g. {@code http/1.1} and
 * {@code h2} of one HTTP target).
 *
 * <p>Example: three hosts each with 1 000 OK samples of 1..1000 ms give count 3 000, min 1.0 ms, max
 * 1000.0 ms and a p99 of 990 ms ± 0.99 ms fleet-wide.
 */
public final class PercentileService {
    private final HistogramStore store;

    public PercentileService(HistogramStore store) {
        this.store = store;
    }

    /** The stored series matching {@code filter}, sorted by target, probe type, protocol, host, resolution. */
    public List<SeriesInfo> series(SeriesFilter filter) {
        return store.series().stream().filter(filter::matches).toList();
    }

    /**
     * Merges the windows of {@code query}'s range.
     *
     * @throws UnknownSeriesException when no stored series has that target, probe type, protocol and host
     * @throws InvalidQueryException when it names a resolution the series is not stored at
     */
    public PercentileResult percentiles(PercentileQuery query) {
        SeriesMatch match = SeriesMatch.of(store, query.range());
        StepWindows windows = match.windows();
        List<WindowedHistogram> all = windows.all();
        Map<String, LatencySummary> phases = new LinkedHashMap<>();
        for (Latency phase : query.phases()) {
            phases.put(phase.name(), new MergedLatency(phase).add(all).summary(query.quantiles()));
        }
        SeriesRange range = query.range();
        return new PercentileResult(range.target(), range.probeType(), range.protocol(), match.protocols(), range.host(),
                windows.fromMillis(), windows.toMillis(), match.resolutionSeconds(), all.size(), sampleCount(all),
                outcomes(all), new MergedLatency(Latency.RESPONSE).add(all).summary(query.quantiles()),
                new MergedLatency(Latency.SERVICE).add(all).summary(query.quantiles()), phases);
    }

    static long sampleCount(List<WindowedHistogram> windows) {
        return windows.stream().mapToLong(WindowedHistogram::getSampleCount).sum();
    }

    /** Samples per outcome, sorted by outcome name. */
    static Map<String, Long> outcomes(List<WindowedHistogram> windows) {
        Map<String, Long> outcomes = new TreeMap<>();
        for (WindowedHistogram window : windows) {
            window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
        }
        return outcomes;
    }

    /** The shortest decimal form of a quantile, used as its JSON key: 0.5 → "0.5", 1.0 → "1". */
    public static String quantileKey(double quantile) {
        return BigDecimal.valueOf(quantile).stripTrailingZeros().toPlainString();
    }

    /** Nanoseconds as milliseconds rounded to the microsecond: 20_123_456 ns → 20.123 ms. */
    static double millis(double nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }
}
