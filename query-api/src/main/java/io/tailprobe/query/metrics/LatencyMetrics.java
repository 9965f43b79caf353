package io.tailprobe.query.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.percentile.Latency;
import io.tailprobe.query.percentile.MergedLatency;
import io.tailprobe.query.percentile.SeriesMatch;
import io.tailprobe.query.percentile.SeriesRange;
import io.tailprobe.query.percentile.Thresholds;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.WindowedHistogram;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stored latency in Prometheus' terms, computed at scrape time from the stored windows. Per
 * fleet-wide series (labels {@code target}, {@code probe}, {@code protocol}, {@code host="*"}; every
 * host's series too when {@code metrics.perHost}):
 * <ul>
 *   <li>{@code tailprobe_response_time_seconds} and {@code tailprobe_service_time_seconds}: cumulative
 *       histograms at the configured {@code le} bounds, counted exactly from the HdrHistograms as
 *       {@link Thresholds} counts, over the whole stored history;</li>
 *   <li>{@code tailprobe_response_time_window_seconds} and {@code tailprobe_service_time_window_seconds}:
 *       summaries whose quantiles are those of the latest closed window (10 s), with the same cumulative
 *       count and sum as the histograms, as a client library's summary has quantiles over a recent
 *       window and counts since it started;</li>
 *   <li>{@code tailprobe_samples_total{outcome}}: every sample by outcome;</li>
 *   <li>{@code tailprobe_window_end_timestamp_seconds}: when that latest window ended, so a stalled
 *       series shows.</li>
 * </ul>
 * Bounds are applied when scraped, never when recorded: restarted with 200 ms among its buckets, the
 * service recounts the whole history at that bound. History is counted once (closed rollups stand in
 * for their windows), then each scrape adds only the windows closed since; the counters stay monotonic
 * across restarts unless retention drops history, which Prometheus reads as a counter reset.
 * {@code _sum} is HdrHistogram's mean × count, within 0.1%.
 *
 * <p>Example line: {@code tailprobe_response_time_seconds_bucket{host="*",probe="tcp",protocol="tcp",
 * target="db",le="0.025"} 35812}.
 */
public final class LatencyMetrics implements MultiCollector {
    private static final List<Latency> LATENCIES = List.of(Latency.RESPONSE, Latency.SERVICE);

    private final HistogramStore store;
    private final List<Double> quantiles;
    private final long[] boundsNanos;
    private final double[] boundsSeconds;
    private final boolean perHost;
    /** Per series and host ({@code db|tcp|tcp|*}), what has been counted so far. */
    private final Map<String, Totals> totals = new HashMap<>();
    private final Map<Latency, MergedLatency> merged = new LinkedHashMap<>();

    public LatencyMetrics(HistogramStore store, QueryApiConfig.Metrics config) {
        this.store = store;
        this.quantiles = config.quantiles();
        this.boundsNanos = config.buckets().stream().mapToLong(Duration::toNanos).toArray();
        this.boundsSeconds = config.buckets().stream().mapToDouble(bound -> bound.toNanos() / 1e9).toArray();
        this.perHost = config.perHost();
        LATENCIES.forEach(latency -> merged.put(latency, new MergedLatency(latency)));
    }

    /** Counts, per series and host, up to the end of its latest window, and their latency histograms. */
    private final class Totals {
        long countedToMillis = -1;
        final Map<String, Long> outcomes = new TreeMap<>();
        final Map<Latency, long[]> atOrUnder = new HashMap<>();
        final Map<Latency, Long> counts = new HashMap<>();
        final Map<Latency, Double> sumsNanos = new HashMap<>();

        void add(List<WindowedHistogram> windows) {
            for (WindowedHistogram window : windows) {
                window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
            }
            for (Latency latency : LATENCIES) {
                MergedLatency sum = merged.get(latency).reset().add(windows);
                long[] cumulative = Thresholds.cumulativeCounts(sum.histogram(), boundsNanos);
                long[] total = atOrUnder.computeIfAbsent(latency, l -> new long[boundsNanos.length]);
                for (int i = 0; i < total.length; i++) {
                    total[i] += cumulative[i];
                }
                counts.merge(latency, sum.count(), Long::sum);
                sumsNanos.merge(latency, sum.count() == 0 ? 0.0 : sum.meanNanos() * sum.count(), Double::sum);
            }
        }
    }

    @Override
    public synchronized MetricSnapshots collect() {
        Map<String, List<SeriesInfo>> exposed = new TreeMap<>();
        List<SeriesInfo> all = store.series();
        for (SeriesInfo info : all) {
            if (info.fleetWide() || perHost) {
                exposed.computeIfAbsent(info.series() + "|" + info.host(), k -> new ArrayList<>()).add(info);
            }
        }
        Map<Latency, HistogramSnapshot.Builder> histograms = new LinkedHashMap<>();
        Map<Latency, SummarySnapshot.Builder> summaries = new LinkedHashMap<>();
        for (Latency latency : LATENCIES) {
            String name = "tailprobe_" + latency.name() + "_time";
            histograms.put(latency, HistogramSnapshot.builder().name(name + "_seconds")
                    .help("The " + latency.name() + " time of OK samples over the stored history, counted from"
                            + " HdrHistograms at these bounds"));
            summaries.put(latency, SummarySnapshot.builder().name(name + "_window_seconds")
                    .help("Quantiles of the " + latency.name() + " time in the latest closed window; count and sum"
                            + " over the stored history"));
        }
        CounterSnapshot.Builder samples = CounterSnapshot.builder().name("tailprobe_samples")
                .help("Probe samples over the stored history, by outcome");
        GaugeSnapshot.Builder windowEnds = GaugeSnapshot.builder().name("tailprobe_window_end_timestamp_seconds")
                .help("The end of the latest closed window, in seconds since the epoch");

        for (List<SeriesInfo> resolutions : exposed.values()) {
            SeriesInfo finest = resolutions.stream().min(Comparator.comparingInt(SeriesInfo::resolutionSeconds))
                    .orElseThrow();
            long latestStartMillis = finest.lastWindowStartMillis();
            long latestEndMillis = latestStartMillis + finest.resolutionSeconds() * 1_000L;
            Totals counted = totals.computeIfAbsent(finest.series() + "|" + finest.host(), key -> new Totals());
            if (counted.countedToMillis < latestEndMillis) {
                long fromMillis = counted.countedToMillis < 0 ? finest.firstWindowStartMillis() : counted.countedToMillis;
                counted.add(SeriesMatch.of(store, new SeriesRange(finest.target(), finest.probeType(), finest.protocol(),
                        finest.host(), fromMillis, latestEndMillis, 0), all).windows().all());
                counted.countedToMillis = latestEndMillis;
            }
            List<WindowedHistogram> latest = store.windows(finest.series(), finest.host(), finest.resolutionSeconds(),
                    latestStartMillis, latestStartMillis + 1);

            Labels labels = Labels.of("target", finest.target(), "probe", finest.probeType(), "protocol",
                    finest.protocol(), "host", finest.host());
            for (Latency latency : LATENCIES) {
                long count = counted.counts.getOrDefault(latency, 0L);
                double sumSeconds = counted.sumsNanos.getOrDefault(latency, 0.0) / 1e9;
                histograms.get(latency).dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(buckets(counted.atOrUnder.get(latency), count))
                        .sum(sumSeconds).labels(labels).build());
                MergedLatency window = merged.get(latency).reset().add(latest);
                Quantiles.Builder windowQuantiles = Quantiles.builder();
                if (window.count() > 0) {
                    quantiles.forEach(q -> windowQuantiles.quantile(new Quantile(q, window.valueAtQuantileNanos(q) / 1e9)));
                }
                summaries.get(latency).dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder()
                        .quantiles(windowQuantiles.build()).count(count).sum(sumSeconds).labels(labels).build());
            }
            counted.outcomes.forEach((outcome, n) -> samples.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .value(n).labels(labels.add("outcome", outcome)).build()));
            windowEnds.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(latestEndMillis / 1_000.0)
                    .labels(labels).build());
        }
        MetricSnapshots.Builder snapshots = MetricSnapshots.builder();
        histograms.values().forEach(h -> snapshots.metricSnapshot(h.build()));
        summaries.values().forEach(s -> snapshots.metricSnapshot(s.build()));
        return snapshots.metricSnapshot(samples.build()).metricSnapshot(windowEnds.build()).build();
    }

    /** Per-bucket counts (ClassicHistogramBuckets takes them non-cumulative), +Inf holding the rest. */
    private ClassicHistogramBuckets buckets(long[] atOrUnder, long count) {
        double[] upperBounds = new double[boundsSeconds.length + 1];
        long[] perBucket = new long[boundsSeconds.length + 1];
        long previous = 0;
        for (int i = 0; i < boundsSeconds.length; i++) {
            upperBounds[i] = boundsSeconds[i];
            long cumulative = atOrUnder == null ? 0 : atOrUnder[i];
            perBucket[i] = cumulative - previous;
            previous = cumulative;
        }
        upperBounds[boundsSeconds.length] = Double.POSITIVE_INFINITY;
        perBucket[boundsSeconds.length] = count - previous;
        return ClassicHistogramBuckets.of(upperBounds, perBucket);
    }
}
