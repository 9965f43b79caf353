package io.tailprobe.query.http;

import static io.tailprobe.query.SampleFleet.HOSTS;
import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.ForwardingHistogramStore;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.WindowedHistogram;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.LatencyHistograms;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The API over real HTTP (javalin-testtools 7.x is not published), on a free port, over an in-memory store. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueryApiTest {
    /** "Now" for the API: the end of the last in-range window, so the default hour covers them all. */
    private static final Instant NOW = Instant.ofEpochMilli(windowStartMillis(SampleFleet.WINDOWS));
    private static final String FROM_ISO = "2026-11-23T14:00:00Z";
    private static final String TO_ISO = "2026-11-23T14:01:40Z";

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final SampleFleet fleet = new SampleFleet();
    private final InMemoryHistogramStore store = fleet.fill(new InMemoryHistogramStore());
    private final SampleTopic topic = new SampleTopic();
    private final KafkaSampleSource samples = new KafkaSampleSource(topic::consumer, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private QueryApi api;

    record Response(int status, String contentType, JsonNode body) {}

    @BeforeAll
    void startApi() {
        store.put(TestWindows.window(new SeriesKey("web", "http", "h2"), "a", windowStartMillis(0),
                new long[] {12_000_000L}, 0));
        store.put(TestWindows.window(new SeriesKey("web", "http", "http/1.1"), "a", windowStartMillis(0),
                new long[] {15_000_000L}, 0));
        for (int second = 0; second < 100; second++) {
            for (String host : HOSTS) {
                long scheduledMillis = windowStartMillis(0) + second * 1_000L;
                topic.send(SampleTopic.sample(SampleFleet.SERIES, host, scheduledMillis, 20_000_000L + second),
                        scheduledMillis + 25);
            }
        }
        api = new QueryApi(store, samples, Clock.fixed(NOW, ZoneOffset.UTC), QueryApiConfig.defaultConfig()).start(0);
    }

    @AfterAll
    void stopApi() {
        api.close();
    }

    private Response get(String pathAndQuery) throws IOException, InterruptedException {
        return get(api, pathAndQuery);
    }

    private Response get(QueryApi target, String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> response = getText(target, pathAndQuery);
        return new Response(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                json.readTree(response.body()));
    }

    private HttpResponse<String> getText(QueryApi target, String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + target.port() + pathAndQuery)).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The fleet-wide response-time histogram of windows {@code [from, to)}, recorded from the raw values. */
    private Histogram rawHistogram(int fromWindow, int toWindow) {
        Histogram histogram = LatencyHistograms.newHistogram();
        fleet.responseNanos(HOSTS, fromWindow, toWindow).forEach(nanos -> LatencyHistograms.record(histogram, nanos));
        return histogram;
    }

    private static List<String> field(JsonNode array, String name) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.get(name).asText()));
        return values;
    }

    @Test
    void series_lists_every_series_host_and_resolution_with_its_window_span() throws Exception {
        Response response = get("/api/v1/series");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("application/json");
        assertThat(response.body()).hasSize(4 + 2);
        JsonNode fleetWide = response.body().get(0);
        assertThat(fleetWide.get("target").asText()).isEqualTo("demo-tcp");
        assertThat(fleetWide.get("probe").asText()).isEqualTo("tcp");
        assertThat(fleetWide.get("protocol").asText()).isEqualTo("tcp");
        assertThat(fleetWide.get("host").asText()).isEqualTo("*");
        assertThat(fleetWide.get("resolutionSeconds").asInt()).isEqualTo(10);
        assertThat(fleetWide.get("firstWindowStartMillis").asLong()).isEqualTo(windowStartMillis(-1));
        assertThat(fleetWide.get("lastWindowStartMillis").asLong()).isEqualTo(windowStartMillis(SampleFleet.WINDOWS));
    }

    @Test
    void series_filters_by_target_probe_protocol_and_host() throws Exception {
        assertThat(field(get("/api/v1/series?target=demo-tcp").body(), "host")).containsExactly("*", "a", "b", "c");
        assertThat(field(get("/api/v1/series?probe=http").body(), "protocol")).containsExactly("h2", "http/1.1");
        assertThat(field(get("/api/v1/series?protocol=h2").body(), "target")).containsExactly("web");
        assertThat(field(get("/api/v1/series?host=a").body(), "target")).containsExactly("demo-tcp", "web", "web");
        assertThat(field(get("/api/v1/series?target=demo-tcp&host=*").body(), "host")).containsExactly("*");
        assertThat(get("/api/v1/series?target=nothing").body()).isEmpty();
    }

    @Test
    void series_carry_their_labels_and_filter_by_every_label_given() throws Exception {
        JsonNode hostA = get("/api/v1/series?target=demo-tcp&host=a").body().get(0);
        assertThat(hostA.get("labels").get("region").asText()).isEqualTo("eu-west-1");
        assertThat(get("/api/v1/series?target=demo-tcp&host=*").body().get(0).get("labels")).isEmpty();

        assertThat(field(get("/api/v1/series?label=region=eu-west-1").body(), "host")).containsExactly("a", "b");
        assertThat(field(get("/api/v1/series?label=region%3Dus-east-1&target=demo-tcp").body(), "host"))
                .containsExactly("c");
        assertThat(get("/api/v1/series?label=region=eu-west-1&label=az=x").body()).isEmpty();
        Response bad = get("/api/v1/series?label=region");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().get("parameter").asText()).isEqualTo("label");
        assertThat(bad.body().get("rule").asText()).isEqualTo("must be key=value, e.g. label=region=eu-west-1");
    }

    @Test
    void percentiles_with_epoch_milliseconds_answer_the_exact_figures_within_a_tenth_of_a_percent() throws Exception {
        Response response = get("/api/v1/percentiles?target=demo-tcp&probe=tcp&from=" + windowStartMillis(0)
                + "&to=" + windowStartMillis(SampleFleet.WINDOWS) + "&quantiles=0.5,0.99,0.999");

        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.body();
        assertThat(body.get("target").asText()).isEqualTo("demo-tcp");
        assertThat(body.get("probe").asText()).isEqualTo("tcp");
        assertThat(body.get("protocol").isNull()).isTrue();
        assertThat(body.get("host").asText()).isEqualTo("*");
        assertThat(body.get("fromMillis").asLong()).isEqualTo(windowStartMillis(0));
        assertThat(body.get("toMillis").asLong()).isEqualTo(windowStartMillis(SampleFleet.WINDOWS));
        assertThat(body.get("resolutionSeconds").asInt()).isEqualTo(10);
        assertThat(body.get("windows").asInt()).isEqualTo(SampleFleet.WINDOWS);
        long ok = (long) HOSTS.size() * SampleFleet.WINDOWS * SampleFleet.SAMPLES_PER_HOST_WINDOW;
        long timeouts = HOSTS.size() * SampleFleet.WINDOWS * SampleFleet.TIMEOUTS_PER_HOST_WINDOW;
        assertThat(body.get("count").asLong()).isEqualTo(ok + timeouts);
        assertThat(body.get("outcomes").get("OK").asLong()).isEqualTo(ok);
        assertThat(body.get("outcomes").get("TIMEOUT").asLong()).isEqualTo(timeouts);

        List<Long> raw = fleet.responseNanos(HOSTS, 0, SampleFleet.WINDOWS);
        JsonNode responseTime = body.get("responseTime");
        assertThat(responseTime.get("count").asLong()).isEqualTo(ok);
        assertThat(responseTime.get("minMillis").asDouble())
                .isEqualTo(Math.round(raw.stream().mapToLong(Long::longValue).min().orElseThrow() / 1_000.0) / 1_000.0);
        for (String q : List.of("0.5", "0.99", "0.999")) {
            double exact = TestWindows.millis(TestWindows.exactQuantile(raw, Double.parseDouble(q)));
            assertThat(responseTime.get("quantilesMillis").get(q).asDouble())
                    .isBetween(exact * 0.999 - 0.0005, exact * 1.001 + 0.0005);
        }
        assertThat(body.get("serviceTime").get("count").asLong()).isEqualTo(ok);
    }

    @Test
    void percentiles_with_iso_8601_instants_give_the_same_answer_as_epoch_milliseconds() throws Exception {
        JsonNode iso = get("/api/v1/percentiles?target=demo-tcp&probe=tcp&protocol=tcp&host=b&from=" + FROM_ISO
                + "&to=" + TO_ISO).body();
        JsonNode epoch = get("/api/v1/percentiles?target=demo-tcp&probe=tcp&protocol=tcp&host=b&from="
                + windowStartMillis(0) + "&to=" + windowStartMillis(SampleFleet.WINDOWS)).body();

        assertThat(iso).isEqualTo(epoch);
        assertThat(iso.get("host").asText()).isEqualTo("b");
        assertThat(iso.get("protocol").asText()).isEqualTo("tcp");
        assertThat(iso.get("windows").asInt()).isEqualTo(SampleFleet.WINDOWS);
        // an offset is accepted too: 15:00:00+01:00 is 14:00:00Z
        JsonNode offset = get("/api/v1/percentiles?target=demo-tcp&probe=tcp&protocol=tcp&host=b"
                + "&from=2026-11-23T15:00:00%2B01:00&to=" + TO_ISO).body();
        assertThat(offset).isEqualTo(epoch);
    }

    @Test
    void to_defaults_to_now_from_to_an_hour_before_and_quantiles_to_the_usual_four() throws Exception {
        JsonNode body = get("/api/v1/percentiles?target=demo-tcp&probe=tcp").body();

        assertThat(body.get("toMillis").asLong()).isEqualTo(NOW.toEpochMilli());
        assertThat(body.get("fromMillis").asLong()).isEqualTo(NOW.toEpochMilli() - 3_600_000L);
        // every in-range window and the outlier at 13:59:50, none of the one at 14:01:40 (= now)
        assertThat(body.get("windows").asInt()).isEqualTo(SampleFleet.WINDOWS + 1);
        List<String> keys = new ArrayList<>();
        body.get("responseTime").get("quantilesMillis").fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("0.5", "0.9", "0.99", "0.999");
    }

    @Test
    void timeseries_answers_one_point_per_step_with_the_quantiles_of_that_step() throws Exception {
        Response response = get("/api/v1/timeseries?target=demo-tcp&probe=tcp&host=a&from=" + FROM_ISO + "&to=" + TO_ISO
                + "&step=50s&latency=service&quantiles=0.5,0.999");

        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.body();
        assertThat(body.get("latency").asText()).isEqualTo("service");
        assertThat(body.get("stepSeconds").asLong()).isEqualTo(50);
        assertThat(body.get("resolutionSeconds").asInt()).isEqualTo(10);
        assertThat(body.get("points")).hasSize(2);
        JsonNode second = body.get("points").get(1);
        assertThat(second.get("startMillis").asLong()).isEqualTo(windowStartMillis(5));
        assertThat(second.get("windows").asInt()).isEqualTo(5);
        List<Long> raw = fleet.serviceNanos(List.of("a"), 5, 10);
        double exact = TestWindows.millis(TestWindows.exactQuantile(raw, 0.999));
        assertThat(second.get("latency").get("quantilesMillis").get("0.999").asDouble())
                .isBetween(exact * 0.999 - 0.0005, exact * 1.001 + 0.0005);
        assertThat(second.get("latency").get("count").asLong()).isEqualTo(raw.size());
    }

    @Test
    void heatmap_answers_the_bucket_bounds_and_one_column_of_counts_per_step() throws Exception {
        Response response = get("/api/v1/heatmap?target=demo-tcp&probe=tcp&from=" + FROM_ISO + "&to=" + TO_ISO
                + "&step=1m&bucketsPerDecade=5");

        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.body();
        assertThat(body.get("latency").asText()).isEqualTo("response");
        assertThat(body.get("bucketsPerDecade").asInt()).isEqualTo(5);
        assertThat(body.get("stepSeconds").asLong()).isEqualTo(60);
        int buckets = body.get("boundsMillis").size() - 1;
        assertThat(body.get("columns")).hasSize(2);
        long total = 0;
        for (JsonNode column : body.get("columns")) {
            assertThat(column.get("counts")).hasSize(buckets);
            long sum = 0;
            for (JsonNode count : column.get("counts")) {
                sum += count.asLong();
            }
            assertThat(sum).isEqualTo(column.get("count").asLong());
            total += sum;
        }
        assertThat(total).isEqualTo((long) HOSTS.size() * SampleFleet.WINDOWS * SampleFleet.SAMPLES_PER_HOST_WINDOW);
    }

    @Test
    void slo_covers_the_last_30_days_by_default_and_answers_the_error_budget_of_the_objective() throws Exception {
        Response response = get("/api/v1/slo?target=demo-tcp&probe=tcp&host=c&threshold=20ms&objective=0.95");

        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.body();
        assertThat(body.get("fromMillis").asLong()).isEqualTo(NOW.toEpochMilli() - 30 * 86_400_000L);
        assertThat(body.get("toMillis").asLong()).isEqualTo(NOW.toEpochMilli());
        assertThat(body.get("latency").asText()).isEqualTo("response");
        assertThat(body.get("thresholdMillis").asDouble()).isEqualTo(20.0);
        long ok = SampleFleet.WINDOWS * SampleFleet.SAMPLES_PER_HOST_WINDOW + 1; // and the 5 s outlier at 13:59:50
        assertThat(body.get("latencyCount").asLong()).isEqualTo(ok);
        assertThat(body.get("errors").asLong()).isEqualTo(SampleFleet.WINDOWS * SampleFleet.TIMEOUTS_PER_HOST_WINDOW);
        JsonNode objective = body.get("objective");
        assertThat(objective.get("target").asDouble()).isEqualTo(0.95);
        assertThat(objective.get("good").asLong() + objective.get("bad").asLong())
                .isEqualTo(ok + body.get("errors").asLong());
        assertThat(objective.has("errorBudgetRemaining")).isTrue();
    }

    @Test
    void histogram_exports_an_interval_log_that_hdrhistograms_own_reader_reads_back_exactly() throws Exception {
        HttpResponse<String> response = getText(api, "/api/v1/histogram?target=demo-tcp&probe=tcp&from=" + FROM_ISO
                + "&to=" + TO_ISO + "&step=50s");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
        assertThat(response.headers().firstValue("Content-Disposition").orElseThrow())
                .isEqualTo("attachment; filename=\"demo-tcp-response.hlog\"");
        assertThat(response.body()).startsWith("#[Tailprobe response time of target=demo-tcp probe=tcp protocol=tcp host=*");
        List<EncodableHistogram> intervals = new ArrayList<>();
        try (HistogramLogReader reader = new HistogramLogReader(
                new ByteArrayInputStream(response.body().getBytes(StandardCharsets.UTF_8)))) {
            for (EncodableHistogram interval = reader.nextIntervalHistogram(); interval != null;
                 interval = reader.nextIntervalHistogram()) {
                intervals.add(interval);
            }
            assertThat(reader.getStartTimeSec()).isEqualTo(windowStartMillis(0) / 1_000.0);
        }
        assertThat(intervals).hasSize(2);
        for (int i = 0; i < 2; i++) {
            Histogram read = (Histogram) intervals.get(i);
            assertThat(read.getStartTimeStamp()).isEqualTo(windowStartMillis(5 * i));
            assertThat(read.getEndTimeStamp()).isEqualTo(windowStartMillis(5 * i + 5));
            assertThat(read).isEqualTo(rawHistogram(5 * i, 5 * i + 5));
        }
    }

    @Test
    void histogram_exports_the_compressed_encoding_in_base64_json_for_the_whole_range() throws Exception {
        Response response = get("/api/v1/histogram?target=demo-tcp&probe=tcp&from=" + FROM_ISO + "&to=" + TO_ISO
                + "&format=base64");

        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.body();
        assertThat(body.get("unit").asText()).isEqualTo("nanoseconds");
        assertThat(body.get("intervals")).hasSize(1);
        JsonNode interval = body.get("intervals").get(0);
        assertThat(interval.get("startMillis").asLong()).isEqualTo(windowStartMillis(0));
        assertThat(interval.get("endMillis").asLong()).isEqualTo(windowStartMillis(SampleFleet.WINDOWS));
        Histogram decoded = Histogram.decodeFromCompressedByteBuffer(
                ByteBuffer.wrap(Base64.getDecoder().decode(interval.get("histogramBase64").asText())), 0);
        assertThat(decoded).isEqualTo(rawHistogram(0, SampleFleet.WINDOWS));
        assertThat(interval.get("count").asLong()).isEqualTo(decoded.getTotalCount());
    }

    @Test
    void samples_stream_the_raw_samples_of_a_range_as_ndjson_up_to_the_limit() throws Exception {
        HttpResponse<String> response = getText(api, "/api/v1/samples?target=demo-tcp&probe=tcp&host=b&from="
                + windowStartMillis(2) + "&to=" + windowStartMillis(3));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/x-ndjson");
        List<JsonNode> lines = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            lines.add(json.readTree(line));
        }
        assertThat(lines).hasSize(10).allSatisfy(line -> {
            assertThat(line.get("host").asText()).isEqualTo("b");
            assertThat(line.get("outcome").asText()).isEqualTo("OK");
            assertThat(line.get("labels").get("region").asText()).isEqualTo("eu-west-1");
            assertThat(line.get("phases").isNull()).isTrue();
        });
        assertThat(lines.getFirst().get("scheduledStartMicros").asLong()).isEqualTo(windowStartMillis(2) * 1_000L);
        assertThat(lines.getFirst().get("responseTimeNanos").asLong()).isEqualTo(20_000_020L);

        String limited = getText(api, "/api/v1/samples?target=demo-tcp&probe=tcp&protocol=tcp&from=" + FROM_ISO
                + "&to=" + TO_ISO + "&limit=7").body();
        assertThat(limited.lines()).hasSize(7);
        assertThat(topic.consumersOpen()).isZero();
    }

    @Test
    void metrics_serve_the_fleet_wide_series_in_prometheus_text_format() throws Exception {
        HttpResponse<String> response = getText(api, "/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
        assertThat(response.body())
                .contains("tailprobe_response_time_seconds_bucket{host=\"*\",probe=\"tcp\",protocol=\"tcp\","
                        + "target=\"demo-tcp\",le=\"+Inf\"} 9002")
                .contains("tailprobe_samples_total{host=\"*\",outcome=\"TIMEOUT\",probe=\"tcp\",protocol=\"tcp\","
                        + "target=\"demo-tcp\"} 60.0")
                .doesNotContain("host=\"a\"")
                .contains("tailprobe_query_run_cache_requests_total{result=\"hit\"}")
                .contains("tailprobe_query_run_cache_budget_bytes");
    }

    @Test
    void a_known_series_with_no_window_in_the_range_answers_200_with_count_zero() throws Exception {
        Response response = get("/api/v1/percentiles?target=demo-tcp&probe=tcp&from=2026-11-24T00:00:00Z"
                + "&to=2026-11-24T01:00:00Z");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body().get("windows").asInt()).isZero();
        assertThat(response.body().get("count").asLong()).isZero();
        assertThat(response.body().get("responseTime").get("quantilesMillis")).isEmpty();
        assertThat(response.body().get("responseTime").get("minMillis").isNull()).isTrue();
    }

    @Test
    void an_unknown_series_answers_404_naming_the_parameter() throws Exception {
        Response response = get("/api/v1/percentiles?target=demo-tcp&probe=tcp&host=zzz");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.contentType()).startsWith("application/json");
        assertThat(response.body().get("status").asInt()).isEqualTo(404);
        assertThat(response.body().get("parameter").asText()).isEqualTo("host");
        assertThat(response.body().get("value").asText()).isEqualTo("zzz");
        assertThat(response.body().get("rule").asText()).contains("no stored series");
    }

    @ParameterizedTest(name = "{0} -> 400 naming {1}")
    @CsvSource(delimiter = ';', value = {
        "percentiles?probe=tcp; target; is required; ''",
        "percentiles?target=demo-tcp; probe; is required; ''",
        "percentiles?target=demo-tcp&probe=tcp&from=yesterday; from; must be epoch milliseconds or an ISO-8601 instant; yesterday",
        "percentiles?target=demo-tcp&probe=tcp&to=2026-13-40T00:00:00Z; to; must be epoch milliseconds or an ISO-8601 instant; 2026-13-40T00:00:00Z",
        "percentiles?target=demo-tcp&probe=tcp&from=1795442500000&to=1795442400000; from; must be before to; 1795442500000",
        "percentiles?target=demo-tcp&probe=tcp&from=1795442400000&to=1795442400000; from; must be before to; 1795442400000",
        "percentiles?target=demo-tcp&probe=tcp&quantiles=0.5,1.5; quantiles; each quantile must be a number in [0, 1]; 1.5",
        "percentiles?target=demo-tcp&probe=tcp&quantiles=-0.1; quantiles; each quantile must be a number in [0, 1]; -0.1",
        "percentiles?target=demo-tcp&probe=tcp&quantiles=0.5,p99; quantiles; each quantile must be a number in [0, 1]; p99",
        "percentiles?target=demo-tcp&probe=tcp&quantiles=NaN; quantiles; each quantile must be a number in [0, 1]; NaN",
        "percentiles?target=demo-tcp&probe=tcp&quantiles=0,0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95,1; quantiles; at most 20 quantiles, got 21; 0,0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95,1",
        "percentiles?target=demo-tcp&probe=tcp&from=2026-10-01T00:00:00Z&to=2026-11-23T00:00:00Z; from; the range to - from must be at most 31d; 2026-10-01T00:00:00Z",
        "percentiles?target=a%7Cb&probe=tcp; target; must not contain '|'; a|b",
        "percentiles?target=demo-tcp&probe=tcp&from=-5; from; must not be before 1970; -5",
        "percentiles?target=demo-tcp&probe=tcp&phases=connect,handshake; phases; each phase must be one of dns, connect, tls, requestWrite, firstByte, transfer; handshake",
        "percentiles?target=demo-tcp&probe=tcp&resolution=1m; resolution; must be a resolution the series is stored at, in seconds: [10]; 60s",
        "percentiles?target=demo-tcp&probe=tcp&resolution=1.5s; resolution; must be a positive whole number of seconds; 1.5s",
        "percentiles?target=demo-tcp&probe=tcp&resolution=0; resolution; must be a positive whole number of seconds; 0",
        "timeseries?target=demo-tcp&probe=tcp&step=15s; step; must be a multiple of the resolution read, 10s; 15s",
        "timeseries?target=demo-tcp&probe=tcp&from=2026-11-01T00:00:00Z&to=2026-11-23T00:00:00Z&step=10s; step; gives 190080 steps over the range, more than the 1000 allowed; 10s",
        "timeseries?target=demo-tcp&probe=tcp&latency=wire; latency; must be one of response, service, dns, connect, tls, requestWrite, firstByte, transfer; wire",
        "timeseries?target=demo-tcp&probe=tcp&step=-1m; step; must be a positive whole number of seconds; -1m",
        "heatmap?target=demo-tcp&probe=tcp&bucketsPerDecade=51; bucketsPerDecade; must be a whole number in [1, 50]; 51",
        "heatmap?target=demo-tcp&probe=tcp&bucketsPerDecade=ten; bucketsPerDecade; must be a whole number in [1, 50]; ten",
        "heatmap?target=demo-tcp&probe=tcp&step=7s; step; must be a multiple of the resolution read, 10s; 7s",
        "slo?target=demo-tcp&probe=tcp; threshold; is required and must be a positive duration; ''",
        "slo?target=demo-tcp&probe=tcp&threshold=0ms; threshold; must be a positive duration such as 200ms; 0ms",
        "slo?target=demo-tcp&probe=tcp&threshold=200; threshold; must be a positive duration such as 200ms; 200",
        "slo?target=demo-tcp&probe=tcp&threshold=200ms&objective=1; objective; must be a number in (0, 1); 1",
        "slo?target=demo-tcp&probe=tcp&threshold=200ms&objective=99%25; objective; must be a number in (0, 1); 99%",
        "histogram?target=demo-tcp&probe=tcp&format=csv; format; must be one of hlog, base64; csv",
        "histogram?target=demo-tcp&probe=tcp&step=5s; step; must be a multiple of the resolution read, 10s; 5s",
        "samples?target=demo-tcp&probe=tcp&limit=10001; limit; must be a whole number in [1, 10000]; 10001",
        "samples?target=demo-tcp&probe=tcp&limit=0; limit; must be a whole number in [1, 10000]; 0",
        "samples?target=demo-tcp&probe=tcp&from=2026-11-23T12:00:00Z&to=2026-11-23T14:00:00Z; from; the range to - from must be at most 1h; 2026-11-23T12:00:00Z",
        "samples?probe=tcp; target; is required; ''",
    })
    void bad_parameters_answer_400_with_json_naming_the_parameter_and_the_rule(String endpointAndQuery, String parameter,
                                                                             String rule, String value)
            throws Exception {
        Response response = get("/api/v1/" + endpointAndQuery);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.contentType()).startsWith("application/json");
        assertThat(response.body().get("status").asInt()).isEqualTo(400);
        assertThat(response.body().get("parameter").asText()).isEqualTo(parameter);
        assertThat(response.body().get("rule").asText()).contains(rule);
        assertThat(response.body().get("value").asText()).isEqualTo(value);
    }

    @Test
    void an_unknown_path_answers_a_json_404() throws Exception {
        Response response = get("/api/v1/nothing-here");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.contentType()).startsWith("application/json");
        assertThat(response.body().get("status").asInt()).isEqualTo(404);
        assertThat(response.body().get("error").asText()).isEqualTo("Not Found");
    }

    @Test
    void ready_answers_200_once_the_store_has_caught_up_and_503_while_it_catches_up_or_is_down() throws Exception {
        InMemoryHistogramStore own = new InMemoryHistogramStore();
        try (QueryApi ownApi = new QueryApi(own, samples, Clock.systemUTC(), QueryApiConfig.defaultConfig()).start(0)) {
            own.setCaughtUp(false);
            Response catchingUp = get(ownApi, "/ready");
            assertThat(catchingUp.status()).isEqualTo(503);
            assertThat(catchingUp.body().get("status").asText()).isEqualTo("CATCHING_UP");
            assertThat(get(ownApi, "/health").status()).as("running, so healthy").isEqualTo(200);

            own.setCaughtUp(true);
            Response ready = get(ownApi, "/ready");
            assertThat(ready.status()).isEqualTo(200);
            assertThat(ready.body().get("status").asText()).isEqualTo("READY");

            own.setRunning(false);
            Response down = get(ownApi, "/ready");
            assertThat(down.status()).isEqualTo(503);
            assertThat(down.body().get("status").asText()).isEqualTo("DOWN");
        }
    }

    @Test
    void queries_take_turns_while_health_and_metrics_answer() throws Exception {
        long fromMillis = windowStartMillis(3);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger reading = new AtomicInteger();
        AtomicInteger mostReadingAtOnce = new AtomicInteger();
        HistogramStore slow = new ForwardingHistogramStore(store) { // a query's read of its range waits until released
            @Override
            public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long from,
                                                   long toExclusive) {
                if (from == fromMillis) { // not /metrics' reads, which start at the first window
                    mostReadingAtOnce.accumulateAndGet(reading.incrementAndGet(), Math::max);
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        reading.decrementAndGet();
                    }
                }
                return super.windows(series, host, resolutionSeconds, from, toExclusive);
            }
        };
        QueryApiConfig defaults = QueryApiConfig.defaultConfig();
        QueryApiConfig oneAtATime = new QueryApiConfig(defaults.kafka(), new QueryApiConfig.Http(0, "", "", 1),
                defaults.streams(), defaults.maxRange(), defaults.maxSteps(), defaults.maxSeries(), defaults.samples(),
                defaults.metrics());
        try (QueryApi ownApi = new QueryApi(slow, samples, Clock.fixed(NOW, ZoneOffset.UTC), oneAtATime).start(0)) {
            HttpRequest query = HttpRequest.newBuilder(URI.create("http://localhost:" + ownApi.port()
                    + "/api/v1/percentiles?target=demo-tcp&probe=tcp&from=" + fromMillis + "&to="
                    + windowStartMillis(SampleFleet.WINDOWS))).GET().build();
            CompletableFuture<HttpResponse<String>> first = http.sendAsync(query, HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> reading.get() == 1);
            CompletableFuture<HttpResponse<String>> second = http.sendAsync(query, HttpResponse.BodyHandlers.ofString());

            await().atMost(Duration.ofSeconds(10)).until(() -> getText(ownApi, "/metrics").body()
                    .contains("tailprobe_query_waiting 1.0"));
            assertThat(getText(ownApi, "/metrics").body()).contains("tailprobe_query_running 1.0")
                    .contains("tailprobe_query_concurrency_limit 1.0");
            assertThat(reading.get()).as("the second query waits its turn").isEqualTo(1);
            assertThat(get(ownApi, "/health").status()).as("health does not wait").isEqualTo(200);

            release.countDown();
            HttpResponse<String> firstAnswer = first.get(10, TimeUnit.SECONDS);
            HttpResponse<String> secondAnswer = second.get(10, TimeUnit.SECONDS);
            assertThat(firstAnswer.statusCode()).isEqualTo(200);
            assertThat(secondAnswer.statusCode()).isEqualTo(200);
            assertThat(secondAnswer.body()).isEqualTo(firstAnswer.body());
            assertThat(mostReadingAtOnce.get()).isEqualTo(1);
        }
    }

    @Test
    void health_is_up_while_the_store_runs_and_down_with_503_when_it_does_not() throws Exception {
        InMemoryHistogramStore own = new InMemoryHistogramStore();
        try (QueryApi ownApi = new QueryApi(own, samples, Clock.systemUTC(), QueryApiConfig.defaultConfig()).start(0)) {
            Response up = get(ownApi, "/health");
            assertThat(up.status()).isEqualTo(200);
            assertThat(up.body().get("status").asText()).isEqualTo("UP");

            own.setRunning(false);
            Response down = get(ownApi, "/health");
            assertThat(down.status()).isEqualTo(503);
            assertThat(down.body().get("status").asText()).isEqualTo("DOWN");
        }
    }
}
