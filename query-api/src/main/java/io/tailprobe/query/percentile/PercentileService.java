package io.tailprobe.query.percentile;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.WindowedHistogram;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.HdrHistogram.Histogram;

/**
 * Answers percentile questions by adding up stored windows: HdrHistogram addition is exact, so the
 * p99 of an hour merged from 360 fleet-wide 10 s windows is the p99 of every sample of that hour, within
 * the histograms' 0.1% precision.
 *
 * <p>Which windows: those of the finest stored resolution of the series whose start lies in
 * {@code [floor(from / resolution) * resolution, to)} — a query from 14:02:05 to 14:03:00 at 10 s merges
 * the six windows starting 14:02:00 … 14:02:50. Without a protocol, every protocol of the target and
 * probe type is merged (e.g. {@code http/1.1} and {@code h2} of one HTTP target).
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
     */
    public PercentileResult percentiles(PercentileQuery query) {
        List<SeriesInfo> chosen = chooseSeries(query);
        int resolutionSeconds = chosen.getFirst().resolutionSeconds();
        long resolutionMillis = resolutionSeconds * 1_000L;
        long alignedFromMillis = Math.floorDiv(query.fromMillis(), resolutionMillis) * resolutionMillis;

        Merged service = new Merged();
        Merged response = new Merged();
        Map<String, Long> outcomes = new TreeMap<>();
        long count = 0;
        int windows = 0;
        for (SeriesInfo series : chosen) {
            for (WindowedHistogram window : store.windows(series.series(), query.host(), resolutionSeconds,
                    alignedFromMillis, query.toMillis())) {
                windows++;
                count += window.getSampleCount();
                window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
                service.add(window.getServiceTimeHistogram(), window.getMinServiceTimeNanos(),
                        window.getMaxServiceTimeNanos());
                response.add(window.getResponseTimeHistogram(), window.getMinResponseTimeNanos(),
                        window.getMaxResponseTimeNanos());
            }
        }
        return new PercentileResult(query.target(), query.probeType(), query.protocol(),
                chosen.stream().map(SeriesInfo::protocol).toList(), query.host(), alignedFromMillis,
                query.toMillis(), resolutionSeconds, windows, count, outcomes,
                response.summary(query.quantiles()), service.summary(query.quantiles()));
    }

    /** The series to merge: every matching protocol at the finest resolution stored for them. */
    private List<SeriesInfo> chooseSeries(PercentileQuery query) {
        List<SeriesInfo> candidates = store.series();
        candidates = narrow(candidates, SeriesInfo::target, query.target(), "target", query);
        candidates = narrow(candidates, SeriesInfo::probeType, query.probeType(), "probe", query);
        if (query.protocol() != null) {
            candidates = narrow(candidates, SeriesInfo::protocol, query.protocol(), "protocol", query);
        }
        candidates = narrow(candidates, SeriesInfo::host, query.host(), "host", query);
        int finest = candidates.stream().mapToInt(SeriesInfo::resolutionSeconds).min().orElseThrow();
        return candidates.stream().filter(s -> s.resolutionSeconds() == finest).toList();
    }

    private static List<SeriesInfo> narrow(List<SeriesInfo> candidates, Function<SeriesInfo, String> field,
                                           String wanted, String parameter, PercentileQuery query) {
        List<SeriesInfo> matching = candidates.stream().filter(s -> wanted.equals(field.apply(s))).toList();
        if (matching.isEmpty()) {
            throw new UnknownSeriesException(parameter, wanted, "no stored series with target=" + query.target()
                    + ", probe=" + query.probeType()
                    + (query.protocol() == null ? "" : ", protocol=" + query.protocol())
                    + ", host=" + query.host() + " (nothing matches " + parameter + "=" + wanted + ")");
        }
        return matching;
    }

    /** The shortest decimal form of a quantile, used as its JSON key: 0.5 → "0.5", 1.0 → "1". */
    public static String quantileKey(double quantile) {
        return BigDecimal.valueOf(quantile).stripTrailingZeros().toPlainString();
    }

    /** Nanoseconds as milliseconds rounded to the microsecond: 20_123_456 ns → 20.123 ms. */
    static double millis(double nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }

    /** One latency's histogram and exact extremes, added up window by window. */
    private static final class Merged {
        private final Histogram histogram = LatencyHistograms.newHistogram();
        private Long minNanos;
        private Long maxNanos;

        void add(ByteBuffer encoded, Long windowMinNanos, Long windowMaxNanos) {
            if (encoded != null && encoded.hasRemaining()) {
                histogram.add(LatencyHistograms.decode(encoded));
            }
            if (windowMinNanos != null) {
                minNanos = minNanos == null ? windowMinNanos : Math.min(minNanos, windowMinNanos);
            }
            if (windowMaxNanos != null) {
                maxNanos = maxNanos == null ? windowMaxNanos : Math.max(maxNanos, windowMaxNanos);
            }
        }

        LatencySummary summary(List<Double> quantiles) {
            long count = histogram.getTotalCount();
            if (count == 0) {
                return LatencySummary.EMPTY;
            }
            // The exact extremes win; the histogram's own are only 0.1% close.
            long min = minNanos != null ? minNanos : histogram.getMinValue();
            long max = maxNanos != null ? maxNanos : histogram.getMaxValue();
            Map<String, Double> quantilesMillis = new LinkedHashMap<>();
            for (double quantile : quantiles) {
                long valueNanos = quantile <= 0.0 ? min
                        : quantile >= 1.0 ? max
                        : Math.clamp(histogram.getValueAtPercentile(quantile * 100.0), min, max);
                quantilesMillis.put(quantileKey(quantile), millis(valueNanos));
            }
            return new LatencySummary(count, millis(min), millis(max), millis(histogram.getMean()), quantilesMillis);
        }
    }
}
