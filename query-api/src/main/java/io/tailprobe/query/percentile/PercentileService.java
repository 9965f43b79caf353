package io.tailprobe.query.percentile;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.WindowedHistogram;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

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
    /** Steps a chart gets when it does not ask for a step: 1 h at 10 s, 31 days at 3 h. */
    public static final int DEFAULT_STEPS = 360;
    /** The steps chosen from, finest first, when a query does not give one. */
    static final List<Long> STEP_LADDER_SECONDS = List.of(10L, 30L, 60L, 300L, 600L, 900L, 1_800L, 3_600L, 10_800L,
            21_600L, 43_200L, 86_400L);

    /** The outcome of a sample that has a latency; every other outcome is an error. */
    static final String OK = Outcome.OK.name();

    /** The most targets whose series lists are kept; past it the lists are dropped and read again. */
    private static final int MAX_CACHED_TARGETS = 10_000;

    private final HistogramStore store;
    private final int maxSteps;
    private final RunCache runs;
    /** Per target, its stored series at a {@link HistogramStore#seriesVersion()}: what {@link SeriesMatch} chooses from. */
    private final Map<String, TargetSeries> seriesByTarget = new ConcurrentHashMap<>();

    private record TargetSeries(long version, List<SeriesInfo> series) {}

    /** How many answers of covers made of kept sums are remembered ({@link #summaries}): a few MB. */
    private static final int REMEMBERED_SUMMARIES = 4_096;
    private final Map<SummaryKey, Map<Latency, LatencySummary>> summariesOfRuns =
            Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<SummaryKey, Map<Latency, LatencySummary>> eldest) {
                    return size() > REMEMBERED_SUMMARIES;
                }
            });

    public PercentileService(HistogramStore store) {
        this(store, DEFAULT_STEPS);
    }

    /** @param maxSteps the most steps a time series, heatmap or stepped export may have */
    public PercentileService(HistogramStore store, int maxSteps) {
        this(store, maxSteps, RunCache.withDefaultBudget());
    }

    PercentileService(HistogramStore store, int maxSteps, RunCache runs) {
        this.store = store;
        this.maxSteps = maxSteps;
        this.runs = runs;
    }

    /**
     * The stored series of {@code range}, from the series list of its target kept since the store's
     * series version last changed: {@link SeriesMatch} reads only which series, hosts and resolutions
     * exist, which changes only when one is added.
     */
    private SeriesMatch match(SeriesRange range) {
        long version = store.seriesVersion(); // before the list is read
        if (version == HistogramStore.UNVERSIONED) {
            return SeriesMatch.of(store, range);
        }
        TargetSeries kept = seriesByTarget.get(range.target());
        if (kept == null || kept.version() != version) {
            kept = new TargetSeries(version, store.series(range.target()));
            if (seriesByTarget.size() >= MAX_CACHED_TARGETS) {
                seriesByTarget.clear();
            }
            seriesByTarget.put(range.target(), kept);
        }
        return SeriesMatch.of(store, range, kept.series());
    }

    /** What the cache of run sums did and holds: for {@code /metrics}. */
    public RunCacheStats cacheStats() {
        return runs.stats();
    }

    /** The stored series matching {@code filter}, sorted by target, probe type, protocol, host, resolution. */
    public List<SeriesInfo> series(SeriesFilter filter) {
        return (filter.target() == null ? store.series() : store.series(filter.target())).stream()
                .filter(filter::matches).toList();
    }

    /**
     * Merges the windows of {@code query}'s range.
     *
     * @throws UnknownSeriesException when no stored series has that target, probe type, protocol and host
     * @throws InvalidQueryException when it names a resolution the series is not stored at
     */
    public PercentileResult percentiles(PercentileQuery query) {
        SeriesMatch match = match(query.range());
        List<Latency> latencies = new ArrayList<>(List.of(Latency.RESPONSE, Latency.SERVICE));
        latencies.addAll(query.phases());
        SeriesMatch.Cover cover = match.cover(runs, latencies);
        List<WindowedHistogram> windows = cover.windows();
        int windowCount = windows.size();
        long count = sampleCount(windows);
        Map<String, Long> outcomes = outcomes(windows);
        for (RunSum run : cover.runs()) {
            windowCount += run.windowCount();
            count += run.sampleCount();
            run.outcomes().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
        }
        Map<Latency, LatencySummary> summaries = summaries(cover, latencies, query.quantiles());
        Map<String, LatencySummary> phases = new LinkedHashMap<>();
        for (Latency phase : query.phases()) {
            phases.put(phase.name(), summaries.get(phase));
        }
        SeriesRange range = query.range();
        return new PercentileResult(range.target(), range.probeType(), range.protocol(), match.protocols(), range.host(),
                cover.fromMillis(), cover.toMillis(), match.resolutionSeconds(), windowCount, count, outcomes,
                summaries.get(Latency.RESPONSE), summaries.get(Latency.SERVICE), phases);
    }

    /**
     * The summary of each latency of the cover: remembered when the cover is made of kept sums only,
     * since the same sums give the same summaries (a dashboard's "last 7 days" asked again within the
     * same 10 s window, or a fixed range asked again, while none of its windows changes).
     */
    private Map<Latency, LatencySummary> summaries(SeriesMatch.Cover cover, List<Latency> latencies,
                                                   List<Double> quantiles) {
        SummaryKey key = null;
        if (cover.windows().isEmpty()) {
            key = new SummaryKey(cover.runs().stream().mapToLong(RunSum::id).toArray(), latencies, quantiles);
            Map<Latency, LatencySummary> known = summariesOfRuns.get(key);
            if (known != null) {
                return known;
            }
        }
        Map<Latency, LatencySummary> summaries = new LinkedHashMap<>();
        for (Latency latency : latencies) {
            summaries.put(latency, merge(latency, cover).summary(quantiles));
        }
        if (key != null) {
            summariesOfRuns.put(key, Collections.unmodifiableMap(summaries));
        }
        return summaries;
    }

    /** The sums a cover is made of (by {@link RunSum#id}), in order, and what was asked of them. */
    private record SummaryKey(long[] runIds, List<Latency> latencies, List<Double> quantiles) {
        @Override
        public boolean equals(Object o) {
            return o instanceof SummaryKey other && Arrays.equals(runIds, other.runIds)
                    && latencies.equals(other.latencies) && quantiles.equals(other.quantiles);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(runIds) + latencies.hashCode()) + quantiles.hashCode();
        }
    }

    /** One latency of the cover's runs and windows added up, its array sized once for the runs. */
    private static LatencyCounts merge(Latency latency, SeriesMatch.Cover cover) {
        LatencyCounts merged = new LatencyCounts();
        cover.runs().forEach(run -> merged.expect(run.latencies().get(latency)));
        cover.windows().forEach(window -> merged.expect(window, latency));
        cover.runs().forEach(run -> merged.add(run.latencies().get(latency)));
        cover.windows().forEach(window -> merged.add(window, latency));
        return merged;
    }

    /**
     * Quantiles of one latency per step. Without a step, the finest of 10 s, 30 s, 1 min, 5 min, 10 min,
     * 15 min, 30 min, 1 h, 3 h, 6 h, 12 h and 1 d that is a multiple of the resolution read and gives at
     * most {@value #DEFAULT_STEPS} steps (fewer if {@code maxSteps} is lower): 1 h in 10 s steps, a day
     * in 5 min steps, 31 days in 3 h steps.
     *
     * @throws InvalidQueryException when the step is not a multiple of the resolution read or gives
     *     more than {@code maxSteps} steps
     */
    public TimeSeriesResult timeSeries(TimeSeriesQuery query) {
        SeriesMatch match = match(query.range());
        StepWindows steps = match.windows(stepSeconds(match, query.stepSeconds()) * 1_000L);
        MergedLatency merged = new MergedLatency(query.latency());
        List<TimeSeriesResult.Point> points = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            List<WindowedHistogram> windows = steps.step(i);
            points.add(new TimeSeriesResult.Point(steps.startMillis(i), windows.size(), sampleCount(windows),
                    outcomes(windows), merged.reset().add(windows).summary(query.quantiles())));
        }
        SeriesRange range = query.range();
        return new TimeSeriesResult(range.target(), range.probeType(), range.protocol(), match.protocols(),
                range.host(), query.latency().name(), steps.fromMillis(), steps.toMillis(), match.resolutionSeconds(),
                steps.stepMillis() / 1_000L, points);
    }

    /**
     * Counts per log-scaled latency bucket per step (see {@link HeatmapResult} for the buckets); steps as
     * for {@link #timeSeries}.
     */
    public HeatmapResult heatmap(HeatmapQuery query) {
        SeriesMatch match = match(query.range());
        StepWindows steps = match.windows(stepSeconds(match, query.stepSeconds()) * 1_000L);
        MergedLatency merged = new MergedLatency(query.latency());
        // first the non-empty HdrHistogram buckets of every step, to find the rows every column shares
        List<long[][]> bucketsOfSteps = new ArrayList<>(steps.size());
        long minNanos = Long.MAX_VALUE;
        long maxNanos = Long.MIN_VALUE;
        for (int i = 0; i < steps.size(); i++) {
            long[][] buckets = recordedBuckets(merged.reset().add(steps.step(i)).histogram());
            bucketsOfSteps.add(buckets);
            if (buckets[0].length > 0) {
                minNanos = Math.min(minNanos, buckets[0][0]);
                maxNanos = Math.max(maxNanos, buckets[0][buckets[0].length - 1]);
            }
        }
        long[] boundsNanos = new long[0];
        if (minNanos <= maxNanos) {
            int n = query.bucketsPerDecade();
            int lowest = HeatmapBounds.index(minNanos, n);
            int highest = HeatmapBounds.index(maxNanos, n);
            boundsNanos = new long[highest - lowest + 2];
            for (int k = lowest - 1; k <= highest; k++) {
                boundsNanos[k - lowest + 1] = HeatmapBounds.boundNanos(k, n);
            }
        }
        List<HeatmapResult.Column> columns = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            long[][] buckets = bucketsOfSteps.get(i);
            long[] counts = new long[Math.max(0, boundsNanos.length - 1)];
            long total = 0;
            for (int b = 0; b < buckets[0].length; b++) {
                int index = Arrays.binarySearch(boundsNanos, buckets[0][b]);
                counts[(index >= 0 ? index : -index - 1) - 1] += buckets[1][b];
                total += buckets[1][b];
            }
            columns.add(new HeatmapResult.Column(steps.startMillis(i), total, counts));
        }
        SeriesRange range = query.range();
        return new HeatmapResult(range.target(), range.probeType(), range.protocol(), match.protocols(), range.host(),
                query.latency().name(), steps.fromMillis(), steps.toMillis(), match.resolutionSeconds(),
                steps.stepMillis() / 1_000L, query.bucketsPerDecade(),
                Arrays.stream(boundsNanos).mapToObj(nanos -> nanos / 1_000_000.0).toList(), columns);
    }

    /** {@code [values, counts]} of the histogram's non-empty buckets, each at its highest equivalent value. */
    private static long[][] recordedBuckets(Histogram histogram) {
        List<long[]> recorded = new ArrayList<>();
        for (HistogramIterationValue bucket : histogram.recordedValues()) { // one reused iteration value
            recorded.add(new long[] {bucket.getValueIteratedTo(), bucket.getCountAtValueIteratedTo()});
        }
        long[][] buckets = new long[2][recorded.size()];
        for (int i = 0; i < recorded.size(); i++) {
            buckets[0][i] = recorded.get(i)[0];
            buckets[1][i] = recorded.get(i)[1];
        }
        return buckets;
    }

    /**
     * The merged histograms of one latency, per step of {@code stepSeconds} (checked as for
     * {@link #timeSeries}) or, when it is 0, over the whole range.
     */
    public HistogramExport histograms(SeriesRange range, Latency latency, long stepSeconds) {
        SeriesMatch match = match(range);
        StepWindows windows = stepSeconds == 0 ? match.windows()
                : match.windows(stepSeconds(match, stepSeconds) * 1_000L);
        return new HistogramExport(match, latency, windows);
    }

    /** The fraction of samples at or under a threshold, the error rate, and the error budget left for an objective. */
    public SloResult slo(SloQuery query) {
        SeriesMatch match = match(query.range());
        StepWindows windows = match.windows();
        List<WindowedHistogram> all = windows.all();
        long count = sampleCount(all);
        Map<String, Long> outcomes = outcomes(all);
        long errors = count - outcomes.getOrDefault(OK, 0L);
        MergedLatency merged = new MergedLatency(query.latency()).add(all);
        long latencyCount = merged.count();
        long good = Thresholds.atOrUnder(merged.histogram(), query.thresholdNanos());
        SloResult.Objective objective = null;
        if (query.objective() != null) {
            long eligible = latencyCount + errors;
            long bad = eligible - good;
            double allowedBad = (1.0 - query.objective()) * eligible;
            Double sli = eligible == 0 ? null : (double) good / eligible;
            objective = new SloResult.Objective(query.objective(), good, bad, sli, allowedBad,
                    eligible == 0 ? 1.0 : 1.0 - bad / allowedBad, sli == null || sli >= query.objective());
        }
        SeriesRange range = query.range();
        return new SloResult(range.target(), range.probeType(), range.protocol(), match.protocols(), range.host(),
                query.latency().name(), windows.fromMillis(), windows.toMillis(), all.size(), count, outcomes, errors,
                count == 0 ? null : (double) errors / count, query.thresholdNanos() / 1_000_000.0, latencyCount, good,
                latencyCount == 0 ? null : (double) good / latencyCount, objective);
    }

    /** {@code requestedSeconds} checked against the match, or one chosen when it is 0 (see {@link #timeSeries}). */
    long stepSeconds(SeriesMatch match, long requestedSeconds) {
        long resolution = match.resolutionSeconds();
        SeriesRange range = match.range();
        if (requestedSeconds > 0) {
            if (requestedSeconds % resolution != 0) {
                throw new InvalidQueryException("step", "must be a multiple of the resolution read, " + resolution + "s",
                        requestedSeconds + "s");
            }
            long steps = steps(range, requestedSeconds);
            if (steps > maxSteps) {
                throw new InvalidQueryException("step", "gives " + steps + " steps over the range, more than the " + maxSteps
                        + " allowed", requestedSeconds + "s");
            }
            return requestedSeconds;
        }
        int wanted = Math.min(DEFAULT_STEPS, maxSteps);
        for (long candidate : STEP_LADDER_SECONDS) {
            if (candidate % resolution == 0 && steps(range, candidate) <= wanted) {
                return candidate;
            }
        }
        long step = Math.ceilDiv(Math.ceilDiv(range.toMillis() - range.fromMillis(), wanted * 1_000L), resolution)
                * resolution;
        while (steps(range, step) > wanted) {
            step += resolution;
        }
        return step;
    }

    /** How many steps of {@code stepSeconds} the range spans, the first one starting at or before {@code from}. */
    static long steps(SeriesRange range, long stepSeconds) {
        long stepMillis = stepSeconds * 1_000L;
        return Math.ceilDiv(range.toMillis() - Math.floorDiv(range.fromMillis(), stepMillis) * stepMillis, stepMillis);
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
