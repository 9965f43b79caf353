package io.tailprobe.query.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.tailprobe.query.http.QueryTurns;
import io.tailprobe.query.percentile.RunCacheStats;
import java.util.function.Supplier;

/**
 * The query API's own figures on {@code /metrics}: what its cache of run sums does, so an operator can
 * tell whether its budget holds what the dashboards ask for, and how many queries wait their turn.
 * <ul>
 *   <li>{@code tailprobe_query_run_cache_requests_total{result="hit"|"miss"}}: runs of windows asked for,
 *       found kept at their current version or read from the store;</li>
 *   <li>{@code tailprobe_query_run_cache_kept_total}, {@code tailprobe_query_run_cache_evicted_total}:
 *       sums built and kept (a run asked for twice), and pushed out past the budget;</li>
 *   <li>{@code tailprobe_query_run_cache_sums}, {@code tailprobe_query_run_cache_bytes},
 *       {@code tailprobe_query_run_cache_budget_bytes}: what it holds now, and may;</li>
 *   <li>{@code tailprobe_query_running}, {@code tailprobe_query_waiting},
 *       {@code tailprobe_query_concurrency_limit}: queries holding a turn now, waiting for one, and how
 *       many may hold one at once
 *       ({@code http.maxConcurrentQueries}).</li>
 * </ul>
 */
public final class QueryApiMetrics implements MultiCollector {
    private final Supplier<RunCacheStats> stats;
    private final QueryTurns turns;

    public QueryApiMetrics(Supplier<RunCacheStats> stats, QueryTurns turns) {
        this.stats = stats;
        this.turns = turns;
    }

    @Override
    public MetricSnapshots collect() {
        RunCacheStats now = stats.get();
        return MetricSnapshots.builder()
                .metricSnapshot(CounterSnapshot.builder().name("tailprobe_query_run_cache_requests")
                        .help("Runs of windows asked for: kept at their current version (hit) or read from the store"
                                + " (miss)")
                        .dataPoint(counter(now.hits(), Labels.of("result", "hit")))
                        .dataPoint(counter(now.misses(), Labels.of("result", "miss"))).build())
                .metricSnapshot(CounterSnapshot.builder().name("tailprobe_query_run_cache_kept")
                        .help("Sums of runs built and kept, each once its run was asked for twice")
                        .dataPoint(counter(now.kept(), Labels.EMPTY)).build())
                .metricSnapshot(CounterSnapshot.builder().name("tailprobe_query_run_cache_evicted")
                        .help("Sums of runs pushed out, least recently used first, past the budget")
                        .dataPoint(counter(now.evicted(), Labels.EMPTY)).build())
                .metricSnapshot(gauge("tailprobe_query_run_cache_sums", "Sums of runs kept now", now.sums()))
                .metricSnapshot(gauge("tailprobe_query_run_cache_bytes", "Heap the kept sums hold, roughly", now.bytes()))
                .metricSnapshot(gauge("tailprobe_query_run_cache_budget_bytes", "The most heap the kept sums may hold",
                        now.budgetBytes()))
                .metricSnapshot(gauge("tailprobe_query_running", "Queries holding a turn to read windows now", turns.running()))
                .metricSnapshot(gauge("tailprobe_query_waiting", "Queries waiting for their turn", turns.waiting()))
                .metricSnapshot(gauge("tailprobe_query_concurrency_limit", "How many queries may hold a turn to read windows at once",
                        turns.limit()))
                .build();
    }

    private static CounterSnapshot.CounterDataPointSnapshot counter(long value, Labels labels) {
        return CounterSnapshot.CounterDataPointSnapshot.builder().value(value).labels(labels).build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }
}
