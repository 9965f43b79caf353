package io.tailprobe.query.metrics;

import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.http.QueryTurns;
import io.tailprobe.query.percentile.PercentileQuery;
import io.tailprobe.query.percentile.PercentileResult;
import io.tailprobe.query.percentile.PercentileService;
import io.tailprobe.query.percentile.SeriesRange;
import io.tailprobe.query.store.InMemoryHistogramStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cache of run sums counted on {@code /metrics} (a range asked once, twice and three times), and the query turns. */
class QueryApiMetricsTest {
    private static final String HITS = "tailprobe_query_run_cache_requests_total{result=\"hit\"}";
    private static final String MISSES = "tailprobe_query_run_cache_requests_total{result=\"miss\"}";
    private static final String KEPT = "tailprobe_query_run_cache_kept_total";

    private final InMemoryHistogramStore store = new SampleFleet().fill(new InMemoryHistogramStore());
    private final PercentileService service = new PercentileService(store);
    private final QueryApiMetrics metrics = new QueryApiMetrics(service::cacheStats, new QueryTurns(2));
    /** The fleet's ten 10 s windows: each a run of one window, and the ten of them one stretch. */
    private final PercentileQuery query = new PercentileQuery(new SeriesRange("demo-tcp", "tcp", null, null,
            windowStartMillis(0), windowStartMillis(SampleFleet.WINDOWS), 0), List.of(0.5, 0.99), List.of());

    @Test
    void a_range_asked_once_misses_asked_twice_is_kept_and_asked_again_hits() throws Exception {
        Map<String, Double> fresh = LatencyMetricsTest.values(LatencyMetricsTest.scrape(metrics));
        assertThat(fresh).containsEntry(HITS, 0.0).containsEntry(MISSES, 0.0).containsEntry(KEPT, 0.0)
                .containsEntry("tailprobe_query_run_cache_sums", 0.0)
                .containsEntry("tailprobe_query_running", 0.0).containsEntry("tailprobe_query_waiting", 0.0)
                .containsEntry("tailprobe_query_concurrency_limit", 2.0)
                .containsEntry("tailprobe_query_run_cache_budget_bytes", (double) Math.min(256L << 20,
                        Runtime.getRuntime().maxMemory() / 8));

        PercentileResult first = service.percentiles(query);
        Map<String, Double> once = LatencyMetricsTest.values(LatencyMetricsTest.scrape(metrics));
        assertThat(once).as("the stretch and its ten windows, none kept").containsEntry(HITS, 0.0)
                .containsEntry(MISSES, 11.0).containsEntry(KEPT, 0.0);

        assertThat(service.percentiles(query)).isEqualTo(first);
        Map<String, Double> twice = LatencyMetricsTest.values(LatencyMetricsTest.scrape(metrics));
        assertThat(twice).as("asked twice: the ten windows' sums and the stretch's kept").containsEntry(HITS, 0.0)
                .containsEntry(MISSES, 22.0).containsEntry(KEPT, 11.0)
                .containsEntry("tailprobe_query_run_cache_sums", 11.0)
                .containsEntry("tailprobe_query_run_cache_evicted_total", 0.0);
        assertThat(twice.get("tailprobe_query_run_cache_bytes")).isPositive();

        assertThat(service.percentiles(query)).isEqualTo(first);
        Map<String, Double> thrice = LatencyMetricsTest.values(LatencyMetricsTest.scrape(metrics));
        assertThat(thrice).as("the stretch's sum, kept").containsEntry(HITS, 1.0).containsEntry(MISSES, 22.0)
                .containsEntry(KEPT, 11.0);
    }

    @Test
    void the_exposition_passes_promtool_check_metrics() throws Exception {
        Path promtool = Promtool.find();
        service.percentiles(query);

        Promtool.Result result = Promtool.checkMetrics(promtool, LatencyMetricsTest.scrape(metrics));

        assertThat(result.output()).as("promtool's complaints").isEmpty();
        assertThat(result.exitCode()).isZero();
    }
}
