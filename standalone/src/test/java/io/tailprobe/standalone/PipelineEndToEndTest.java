package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.ProbeAgent;
import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.QueryService;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A TCP sample travels probe → Kafka → aggregator → query API → HTTP answer on a real broker. */
class PipelineEndToEndTest {
    static final Duration INJECTED_DELAY = Duration.ofMillis(20);
    static final String TARGET = "e2e-echo";

    static TestBroker broker;
    static DemoTcpServer server;
    static Aggregator aggregator;
    static QueryService query;

    @TempDir
    static Path stateDir;

    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void startPipeline() {
        broker = TestBroker.start();
        Map<String, String> kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
        AggregatorConfig defaults = AggregatorConfig.defaults();
        aggregator = Aggregator.start(new AggregatorConfig(kafka,
                new AggregatorConfig.Streams("e2e-aggregator", stateDir.resolve("aggregator"), "exactly_once_v2", 1,
                        Duration.ofMillis(100)),
                new AggregatorConfig.Window(Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(2)),
                new AggregatorConfig.TopicsSetup(3, (short) 1), defaults.maxLatency(), new AggregatorConfig.Http(0)));
        query = QueryService.start(new QueryApiConfig(kafka, new QueryApiConfig.Http(0),
                new QueryApiConfig.Streams("e2e-query-api", stateDir.resolve("query-api").toString(), ""),
                Duration.ofDays(1)));
        server = new DemoTcpServer(0, INJECTED_DELAY, Duration.ZERO);
    }

    @AfterAll
    static void stopPipeline() throws Exception {
        for (AutoCloseable service : new AutoCloseable[] {server, query, aggregator, broker}) {
            if (service != null) {
                service.close();
            }
        }
    }

    @Test
    void samples_of_a_20ms_tcp_target_come_back_from_the_query_api_with_their_count_and_median() throws Exception {
        long fromMillis = System.currentTimeMillis() - 60_000;

        // Step 1: an agent probes the local server (one line, answered after 20 ms) until it has sent 100 samples.
        AgentConfig agentConfig = AgentConfig.defaultConfig()
                .withKafka(Map.of("bootstrap.servers", broker.bootstrapServers()))
                .withHttpPort(0)
                .withSpoolDirectory(stateDir.resolve("agent-spool"))
                .withTargets(List.of(new AgentConfig.Target(TARGET, "tcp", server.address(), Duration.ofMillis(50),
                        Duration.ofSeconds(2), "ping\n", "^pong ping$", Map.of())));
        long produced;
        try (ProbeAgent agent = ProbeAgent.start(agentConfig)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> agent.samplesSent() >= 100);
        } finally {
            // close() flushes the producer, so every sample counted as sent is acknowledged by the broker
        }
        List<LatencySample> samples = samplesOnTheTopic();
        produced = samples.size();
        assertThat(produced).isGreaterThanOrEqualTo(100);

        // Step 2: the query API is ready once its store has read latency.histograms to the end; once the
        // windows close, it counts every produced sample.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> status("http://localhost:" + query.port() + "/ready") == 200);
        long toMillis = System.currentTimeMillis() + 60_000;
        String url = "http://localhost:" + query.port() + "/api/v1/percentiles?target=" + TARGET
                + "&probe=tcp&from=" + fromMillis + "&to=" + toMillis + "&quantiles=0.5,0.99";
        JsonNode answer = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get(url), body -> body.path("count").asLong() == produced);

        // Step 3: the numbers are those of the injected delay.
        assertThat(answer.path("outcomes").path("OK").asLong()).isEqualTo(produced);
        assertThat(answer.path("responseTime").path("count").asLong()).isEqualTo(produced);
        double serviceP50Millis = answer.path("serviceTime").path("quantilesMillis").path("0.5").asDouble();
        double responseP50Millis = answer.path("responseTime").path("quantilesMillis").path("0.5").asDouble();
        // the API's median is the raw samples' median within HdrHistogram's 0.1%, and that of a 20 ms delay
        // (the server's 20 ms park overshoots by 2-6 ms on this 2-core VM, more under load: not asserted)
        double rawServiceP50Millis = exactMedianMillis(samples.stream().mapToLong(LatencySample::getServiceTimeNanos));
        double rawResponseP50Millis = exactMedianMillis(samples.stream().mapToLong(LatencySample::getResponseTimeNanos));
        assertThat(serviceP50Millis).isCloseTo(rawServiceP50Millis, withinPercentage(0.1)).isBetween(20.0, 40.0);
        assertThat(responseP50Millis).isCloseTo(rawResponseP50Millis, withinPercentage(0.1)).isBetween(20.0, 40.0);
        assertThat(answer.path("serviceTime").path("minMillis").asDouble()).isGreaterThanOrEqualTo(20.0);

        String aggregatorMetrics = http.send(HttpRequest.newBuilder(URI.create(
                "http://localhost:" + aggregator.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(aggregatorMetrics).contains("tailprobe_aggregator_samples_total " + (double) produced)
                .contains("tailprobe_aggregator_dead_letters_total{reason=\"late\"} 0.0");

        // /metrics counts them too, read from the Kafka-backed store
        String queryMetrics = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + query.port()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(queryMetrics).contains("tailprobe_samples_total{host=\"*\",outcome=\"OK\",probe=\"tcp\","
                + "protocol=\"tcp\",target=\"" + TARGET + "\"} " + (double) produced);

        JsonNode series = get("http://localhost:" + query.port() + "/api/v1/series?target=" + TARGET);
        Set<String> hosts = new HashSet<>();
        series.forEach(s -> hosts.add(s.path("host").asText()));
        assertThat(hosts).containsExactlyInAnyOrder("*", agentConfig.agent().id());

        // Step 4: the raw samples of the second half come back from latency.samples, found by time.
        long[] scheduledMillis = samples.stream().mapToLong(s -> s.getScheduledStartMicros() / 1_000L).sorted().toArray();
        long halfMillis = scheduledMillis[scheduledMillis.length / 2];
        long endMillis = scheduledMillis[scheduledMillis.length - 1] + 1;
        Set<Long> expected = new HashSet<>();
        samples.stream().filter(s -> s.getScheduledStartMicros() >= halfMillis * 1_000L)
                .forEach(s -> expected.add(s.getSequence()));
        HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + query.port()
                + "/api/v1/samples?target=" + TARGET + "&probe=tcp&from=" + halfMillis + "&to=" + endMillis
                + "&limit=10000")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(raw.statusCode()).isEqualTo(200);
        Set<Long> returned = new HashSet<>();
        for (String line : raw.body().split("\n")) {
            JsonNode sample = json.readTree(line);
            assertThat(sample.path("target").asText()).isEqualTo(TARGET);
            returned.add(sample.path("sequence").asLong());
        }
        assertThat(returned).hasSize(expected.size()).isEqualTo(expected);
    }

    private int status(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        return json.readTree(response.body());
    }

    /** The lower median (HdrHistogram's rank rule for p50) of the values, in milliseconds. */
    private static double exactMedianMillis(LongStream nanos) {
        long[] sorted = nanos.sorted().toArray();
        return sorted[(int) Math.ceil(0.5 * sorted.length) - 1] / 1e6;
    }

    private List<LatencySample> samplesOnTheTopic() {
        return CommittedRecords.of(broker.bootstrapServers(), Topics.SAMPLES).stream()
                .map(record -> Topics.sampleSerde().decode(record.value()))
                .filter(sample -> sample.getTarget().equals(TARGET)).toList();
    }
}
