package io.tailprobe.standalone.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.standalone.DemoConfig;
import io.tailprobe.standalone.DemoStack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/grafana/dashboards/tailprobe.json against the real {@code /metrics} of a running pipeline (the
 * standalone stack: a broker, the aggregator, the query API and an agent probing demo targets): every
 * metric name any panel or variable queries, and every label it groups by, must be on the scrape of
 * the service Prometheus reads it from, once windows have closed.
 */
class GrafanaDashboardTest {
    private static final Path DASHBOARD = DeployFiles.DOCKER.resolve("grafana/dashboards/tailprobe.json");
    /** PromQL words that are not metric names; a function is recognised by the parenthesis after it. */
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "bool", "offset", "inf", "nan");
    /** Labels Prometheus adds to every scraped series. */
    private static final Set<String> TARGET_LABELS = Set.of("instance", "job");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
    private static final Pattern SAMPLE_LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+\\S+");

    @TempDir
    static Path dataDir;
    static DemoStack stack;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void startPipeline() {
        stack = new DemoStack(new DemoConfig(new DemoConfig.Broker(0, dataDir), 0, 0, 0,
                new DemoConfig.Demo(Duration.ofMillis(100), Duration.ofMillis(5), Duration.ofMillis(2), Duration.ofMillis(3)),
                Duration.ofSeconds(1)));
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    /** A metric the dashboard queries, and the expression it came from. */
    record Reference(String metric, String expression) {}

    @Test
    void every_metric_and_label_the_dashboard_queries_is_on_a_services_metrics_endpoint() throws IOException {
        List<String> expressions = expressions(new ObjectMapper().readTree(DASHBOARD.toFile()));
        assertThat(expressions).as("panel and variable queries").hasSizeGreaterThan(15);

        // Step 1: windows closed and the query API exposes their histograms; the agent has probed.
        Map<String, Set<String>> scraped = new TreeMap<>();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            scraped.clear();
            for (int port : List.of(stack.queryApiPort(), stack.agentPort(), stack.aggregatorPort())) {
                parse(get(port, "/metrics"), scraped);
            }
            assertThat(scraped).containsKeys("tailprobe_response_time_seconds_bucket", "tailprobe_response_time_window_seconds",
                    "tailprobe_agent_schedule_lag_seconds_bucket", "tailprobe_aggregator_records_lag_max");
        });

        // Step 2: every metric name in every expression is on a scrape.
        List<Reference> references = new ArrayList<>();
        Set<String> groupedBy = new TreeSet<>();
        for (String expression : expressions) {
            for (String metric : metricNames(expression)) {
                references.add(new Reference(metric, expression));
            }
            Matcher by = Pattern.compile("\\b(?:by|without|ignoring|on)\\s*\\(([^)]*)\\)").matcher(expression);
            while (by.find()) {
                for (String label : by.group(1).split(",")) {
                    groupedBy.add(label.strip());
                }
            }
            Matcher labelValues = Pattern.compile("label_values\\(\\s*([\\w:]+)\\s*,\\s*(\\w+)\\s*\\)").matcher(expression);
            while (labelValues.find()) {
                references.add(new Reference(labelValues.group(1), expression));
                groupedBy.add(labelValues.group(2));
            }
        }
        assertThat(references).extracting(Reference::metric).as("agent, aggregator and query API metrics")
                .anyMatch(m -> m.startsWith("tailprobe_agent_")).anyMatch(m -> m.startsWith("tailprobe_aggregator_"))
                .anyMatch(m -> m.startsWith("tailprobe_response_time_"));
        for (Reference reference : references) {
            assertThat(scraped).as("%s, queried by: %s", reference.metric(), reference.expression())
                    .containsKey(reference.metric());
        }
        Set<String> labels = new TreeSet<>(TARGET_LABELS);
        scraped.values().forEach(labels::addAll);
        assertThat(labels).as("labels the dashboard groups by").containsAll(groupedBy);
    }

    @Test
    void the_health_paths_of_images_and_charts_answer_on_the_running_services() throws Exception {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            assertThat(status(stack.agentPort(), "/health")).isEqualTo(200);
            assertThat(status(stack.aggregatorPort(), "/health")).isEqualTo(200);
            assertThat(status(stack.queryApiPort(), "/health")).isEqualTo(200);
            assertThat(status(stack.queryApiPort(), "/ready")).isEqualTo(200);
        });
    }

    @Test
    void metric_names_are_read_from_promql_without_functions_labels_or_keywords() {
        assertThat(metricNames("histogram_quantile(0.99, sum by (target, le) (rate(foo_seconds_bucket{le=\"0.5\",x=~\"$v\"}"
                + "[$__rate_interval]))) / ignoring (le) group_left sum without (a) (bar_total offset 5m) > bool 1e3"
                + " and time() - baz"))
                .containsExactlyInAnyOrder("foo_seconds_bucket", "bar_total", "baz");
        assertThat(metricNames("label_values(tailprobe_samples_total, target)")).isEmpty();
    }

    /** Every query of every panel (rows' nested panels included) and every query variable. */
    static List<String> expressions(JsonNode dashboard) {
        List<String> expressions = new ArrayList<>();
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(panels::add);
        for (int i = 0; i < panels.size(); i++) {
            panels.get(i).path("panels").forEach(panels::add);
            panels.get(i).path("targets").forEach(target -> expressions.add(target.path("expr").asText()));
        }
        dashboard.path("templating").path("list").forEach(variable -> {
            if (variable.path("type").asText().equals("query")) {
                JsonNode query = variable.path("query");
                expressions.add(query.isObject() ? query.path("query").asText() : query.asText());
            }
        });
        expressions.removeIf(String::isBlank);
        return expressions;
    }

    /**
     * The metric names of a PromQL expression: identifiers left once strings, label matchers, range
     * selectors, grouping clauses and Grafana variables are removed, that are neither a function (an
     * identifier followed by a parenthesis) nor a keyword.
     */
    static Set<String> metricNames(String expression) {
        String stripped = expression
                .replaceAll("label_values\\([^)]*\\)", " ") // a variable's query, read on its own
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\w+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(stripped);
        while (m.find()) {
            String word = m.group();
            boolean function = stripped.substring(m.end()).stripLeading().startsWith("(");
            boolean number = m.start() > 0 && Character.isDigit(stripped.charAt(m.start() - 1));
            if (!function && !number && !KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                names.add(word);
            }
        }
        return names;
    }

    /** Sample name to the label names seen on it, from a Prometheus text exposition. */
    private static void parse(String exposition, Map<String, Set<String>> into) {
        for (String line : exposition.split("\n")) {
            Matcher sample = SAMPLE_LINE.matcher(line);
            if (line.startsWith("#") || !sample.find()) {
                continue;
            }
            Set<String> labels = into.computeIfAbsent(sample.group(1), name -> new TreeSet<>());
            if (sample.group(2) != null) {
                Matcher label = Pattern.compile("([a-zA-Z_]\\w*)=\"").matcher(sample.group(2));
                while (label.find()) {
                    labels.add(label.group(1));
                }
            }
        }
    }

    private static String get(int port, String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + " on " + port).isEqualTo(200);
        return response.body();
    }

    private static int status(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
