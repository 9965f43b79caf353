package io.tailprobe.query.percentile;

import io.tailprobe.schemas.SeriesKey;
import java.util.Comparator;
import java.util.ArrayList;
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
 * <p>Which samples: those of the finest-resolution windows whose start lies in
 * {@code [floor(from / resolution) * resolution, to)} — a query from 14:02:05 to 14:03:00 at 10 s covers
 * the six windows starting 14:02:00 … 14:02:50. Closed 1 min and 1 h rollups stand in for their
 * windows wherever they lie wholly inside that span (see {@link #cover}). Without a protocol, every protocol of the target and
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
        List<SeriesInfo> candidates = matchingSeries(query);
        int finestSeconds = candidates.stream().mapToInt(SeriesInfo::resolutionSeconds).min().orElseThrow();
        long finestMillis = finestSeconds * 1_000L;
        long alignedFromMillis = Math.floorDiv(query.fromMillis(), finestMillis) * finestMillis;

        Merged service = new Merged();
        Merged response = new Merged();
        Map<String, Long> outcomes = new TreeMap<>();
        long count = 0;
        int windows = 0;
        Map<SeriesKey, List<Integer>> resolutions = new LinkedHashMap<>();
        for (SeriesInfo info : candidates) {
            resolutions.computeIfAbsent(info.series(), k -> new ArrayList<>()).add(info.resolutionSeconds());
        }
        for (Map.Entry<SeriesKey, List<Integer>> series : resolutions.entrySet()) {
            for (WindowedHistogram window : cover(series.getKey(), query.host(), series.getValue(), alignedFromMillis,
                    query.toMillis())) {
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
                resolutions.keySet().stream().map(SeriesKey::protocol).toList(), query.host(), alignedFromMillis,
                query.toMillis(), finestSeconds, windows, count, outcomes,
                response.summary(query.quantiles()), service.summary(query.quantiles()));
    }

    /**
     * The fewest stored windows that cover {@code [fromMillis, toMillis)} exactly: closed rollup
     * windows (1 h, then 1 min) wherever they lie wholly inside the range, and the finest windows for
     * the rest, including the window that holds {@code toMillis}. A rollup not closed yet (the
     * current hour) is simply not stored, so its span falls through to finer windows. The answer is
     * the same as merging only the finest windows, since a rollup is exactly the sum of its windows;
     * a 7-day query reads about 170 windows instead of 60 480.
     */
    private List<WindowedHistogram> cover(SeriesKey series, String host, List<Integer> resolutionsSeconds,
                                          long fromMillis, long toMillis) {
        List<Integer> coarseFirst = resolutionsSeconds.stream().distinct().sorted(Comparator.reverseOrder()).toList();
        List<WindowedHistogram> chosen = new ArrayList<>();
        List<long[]> gaps = List.of(new long[] {fromMillis, toMillis});
        for (int i = 0; i < coarseFirst.size() - 1; i++) {
            long sizeMillis = coarseFirst.get(i) * 1_000L;
            List<long[]> remaining = new ArrayList<>();
            for (long[] gap : gaps) {
                long firstStart = Math.ceilDiv(gap[0], sizeMillis) * sizeMillis;
                long endOfLast = Math.floorDiv(gap[1], sizeMillis) * sizeMillis;
                long cursor = gap[0];
                if (endOfLast > firstStart) {
                    for (WindowedHistogram window : store.windows(series, host, coarseFirst.get(i), firstStart, endOfLast)) {
                        if (window.getWindowStartMillis() > cursor) {
                            remaining.add(new long[] {cursor, window.getWindowStartMillis()});
                        }
                        chosen.add(window);
                        cursor = window.getWindowEndMillis();
                    }
                }
                if (cursor < gap[1]) {
                    remaining.add(new long[] {cursor, gap[1]});
                }
            }
            gaps = remaining;
        }
        int finest = coarseFirst.getLast();
        for (long[] gap : gaps) {
            chosen.addAll(store.windows(series, host, finest, gap[0], gap[1]));
        }
        return chosen;
    }

    /** Every stored series (any resolution) of the query's target, probe type, protocol (if given) and host. */
    private List<SeriesInfo> matchingSeries(PercentileQuery query) {
        List<SeriesInfo> candidates = store.series();
        candidates = narrow(candidates, SeriesInfo::target, query.target(), "target", query);
        candidates = narrow(candidates, SeriesInfo::probeType, query.probeType(), "probe", query);
        if (query.protocol() != null) {
            candidates = narrow(candidates, SeriesInfo::protocol, query.protocol(), "protocol", query);
        }
        return narrow(candidates, SeriesInfo::host, query.host(), "host", query);
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
