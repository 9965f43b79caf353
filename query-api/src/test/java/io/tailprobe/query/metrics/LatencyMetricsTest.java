package io.tailprobe.query.metrics;

import static io.tailprobe.query.SampleFleet.HOSTS;
import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tailprobe.common.PrometheusText;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

class LatencyMetricsTest {
    static final String FLEET = "host=\"*\",probe=\"tcp\",protocol=\"tcp\",target=\"demo-tcp\"";

    private final SampleFleet fleet = new SampleFleet();
    private final InMemoryHistogramStore store = fleet.fill(new InMemoryHistogramStore());

    static String scrape(MultiCollector metrics) {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(metrics);
        return new String(PrometheusText.scrape(registry), StandardCharsets.UTF_8);
    }

    /** Each sample line's name and labels, to its value. */
    static Map<String, Double> values(String exposition) {
        Map<String, Double> values = new LinkedHashMap<>();
        exposition.lines().filter(line -> !line.startsWith("#")).forEach(line -> {
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        });
        return values;
    }

    /** Labels come out sorted by name, so outcome sits between host and probe. */
    private static String samplesTotal(String host, String outcome) {
        return "tailprobe_samples_total{host=\"" + host + "\",outcome=\"" + outcome
                + "\",probe=\"tcp\",protocol=\"tcp\",target=\"demo-tcp\"}";
    }

    private static QueryApiConfig.Metrics config(List<Duration> buckets, boolean perHost) {
        return new QueryApiConfig.Metrics(List.of(0.5, 0.99), buckets, perHost);
    }

    /** Every raw fleet-wide response time the store holds, the out-of-range outliers included. */
    private List<Long> everyResponseNanos() {
        List<Long> all = new ArrayList<>(fleet.responseNanos(HOSTS, 0, SampleFleet.WINDOWS));
        all.add(SampleFleet.OUTLIER_NANOS);
        all.add(SampleFleet.OUTLIER_NANOS);
        return all;
    }

    @Test
    void fleet_wide_series_expose_cumulative_buckets_counted_from_the_whole_stored_history() {
        String exposition = scrape(new LatencyMetrics(store, QueryApiConfig.Metrics.defaults()));
        Map<String, Double> values = values(exposition);

        List<Long> raw = everyResponseNanos();
        Histogram rule = LatencyHistograms.newHistogram();
        for (double le : new double[] {0.005, 0.01, 0.025, 0.1, 10.0}) {
            long expected = raw.stream().filter(nanos -> rule.highestEquivalentValue(nanos) <= le * 1e9).count();
            assertThat(values.get("tailprobe_response_time_seconds_bucket{" + FLEET + ",le=\"" + le + "\"}"))
                    .as("le=%s", le).isEqualTo((double) expected);
        }
        assertThat(values.get("tailprobe_response_time_seconds_bucket{" + FLEET + ",le=\"+Inf\"}"))
                .isEqualTo((double) raw.size());
        assertThat(values.get("tailprobe_response_time_seconds_count{" + FLEET + "}")).isEqualTo((double) raw.size());
        double sumSeconds = raw.stream().mapToLong(Long::longValue).sum() / 1e9;
        assertThat(values.get("tailprobe_response_time_seconds_sum{" + FLEET + "}"))
                .isCloseTo(sumSeconds, Percentage.withPercentage(0.1));
        assertThat(values.get(samplesTotal("*", "OK"))).isEqualTo((double) raw.size());
        assertThat(values.get(samplesTotal("*", "TIMEOUT")))
                .isEqualTo((double) HOSTS.size() * SampleFleet.WINDOWS * SampleFleet.TIMEOUTS_PER_HOST_WINDOW);
        assertThat(values.get("tailprobe_window_end_timestamp_seconds{" + FLEET + "}"))
                .isEqualTo(windowStartMillis(SampleFleet.WINDOWS + 1) / 1_000.0);
        assertThat(exposition).as("per-host series only when enabled").doesNotContain("host=\"a\"");
    }

    @Test
    void summaries_hold_the_quantiles_of_the_latest_closed_window() {
        InMemoryHistogramStore recent = new InMemoryHistogramStore();
        long[] latest = {1_000_000L, 2_000_000L, 3_000_000L, 4_000_000L, 100_000_000L};
        recent.put(TestWindows.window(SampleFleet.SERIES, HistogramKey.FLEET, windowStartMillis(0),
                new long[] {900_000_000L}, 0));
        recent.put(TestWindows.window(SampleFleet.SERIES, HistogramKey.FLEET, windowStartMillis(1), latest, 0));

        Map<String, Double> values = values(scrape(new LatencyMetrics(recent, config(List.of(Duration.ofMillis(5)), false))));

        assertThat(values.get("tailprobe_response_time_window_seconds{" + FLEET + ",quantile=\"0.5\"}"))
                .isCloseTo(0.003, Percentage.withPercentage(0.1));
        assertThat(values.get("tailprobe_response_time_window_seconds{" + FLEET + ",quantile=\"0.99\"}"))
                .as("the exact max of the window").isEqualTo(0.1);
        assertThat(values.get("tailprobe_service_time_window_seconds{" + FLEET + ",quantile=\"0.99\"}")).isEqualTo(0.075);
        assertThat(values.get("tailprobe_response_time_window_seconds_count{" + FLEET + "}")).as("over the history")
                .isEqualTo(6.0);
    }

    @Test
    void windows_closed_after_a_scrape_are_added_once_and_new_buckets_recount_the_whole_history() {
        LatencyMetrics metrics = new LatencyMetrics(store, config(List.of(Duration.ofMillis(10)), true));
        Map<String, Double> before = values(scrape(metrics));
        assertThat(values(scrape(metrics))).as("nothing new, nothing added").isEqualTo(before);

        long[] late = {8_000_000L, 9_000_000L, 12_000_000L};
        store.put(TestWindows.window(SampleFleet.SERIES, HistogramKey.FLEET, windowStartMillis(11), late, 1));
        store.put(TestWindows.window(SampleFleet.SERIES, "a", windowStartMillis(11), late, 1));
        Map<String, Double> after = values(scrape(metrics));

        for (String host : List.of("*", "a")) {
            String labels = "host=\"" + host + "\",probe=\"tcp\",protocol=\"tcp\",target=\"demo-tcp\"";
            assertThat(after.get("tailprobe_response_time_seconds_bucket{" + labels + ",le=\"0.01\"}"))
                    .isEqualTo(before.get("tailprobe_response_time_seconds_bucket{" + labels + ",le=\"0.01\"}") + 2);
            assertThat(after.get("tailprobe_response_time_seconds_count{" + labels + "}"))
                    .isEqualTo(before.get("tailprobe_response_time_seconds_count{" + labels + "}") + 3);
            assertThat(after.get(samplesTotal(host, "TIMEOUT"))).isEqualTo(before.get(samplesTotal(host, "TIMEOUT")) + 1);
        }
        assertThat(after).containsKey("tailprobe_response_time_seconds_count{host=\"b\",probe=\"tcp\",protocol=\"tcp\",target=\"demo-tcp\"}");

        Map<String, Double> restarted = values(scrape(new LatencyMetrics(store,
                config(List.of(Duration.ofMillis(10), Duration.ofMillis(200)), true))));
        assertThat(restarted.get("tailprobe_response_time_seconds_bucket{" + FLEET + ",le=\"0.01\"}"))
                .isEqualTo(after.get("tailprobe_response_time_seconds_bucket{" + FLEET + ",le=\"0.01\"}"));
        assertThat(restarted.get("tailprobe_response_time_seconds_count{" + FLEET + "}"))
                .isEqualTo(after.get("tailprobe_response_time_seconds_count{" + FLEET + "}"));
        assertThat(restarted).containsKey("tailprobe_response_time_seconds_bucket{" + FLEET + ",le=\"0.2\"}");
    }

    @Test
    void the_exposition_passes_promtool_check_metrics() throws Exception {
        Path promtool = Promtool.find();
        String exposition = scrape(new LatencyMetrics(store, config(QueryApiConfig.Metrics.defaults().buckets(), true)));

        Promtool.Result result = Promtool.checkMetrics(promtool, exposition);

        assertThat(result.output()).as("promtool's complaints").isEmpty();
        assertThat(result.exitCode()).isZero();
        assertThat(Promtool.checkMetrics(promtool, "# TYPE requests counter\nrequests 1\n").output())
                .as("the check does complain when there is something to complain about")
                .contains("counter metrics should have \"_total\" suffix");
        assertThat(exposition).contains("host=\"a\"").contains("host=\"*\"");
    }
}
