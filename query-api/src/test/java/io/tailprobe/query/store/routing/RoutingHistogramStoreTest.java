package io.tailprobe.query.store.routing;

import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.http.QueryApi;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
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
import java.util.stream.Collectors;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two API instances over a {@link RoutingHistogramStore} each, every series held by one of them as a
 * fake {@link Assignment} says, next to one instance holding everything: the three answer every query
 * alike, byte for byte; an owner that cannot answer makes the query a 503. The same over Kafka Streams'
 * real assignment is {@code QueryRoutingTest} in {@code standalone}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoutingHistogramStoreTest {
    private static final int PARTITIONS = 6;
    private static final Set<Integer> HELD_BY_A = Set.of(0, 2, 4, 5);
    private static final Set<Integer> HELD_BY_B = Set.of(1, 3);
    private static final String TOKEN = "peer-token";
    private static final SeriesKey WEB_H2 = new SeriesKey("web", "http", "h2");
    private static final SeriesKey WEB_HTTP1 = new SeriesKey("web", "http", "http/1.1");
    private static final List<SeriesKey> DBS = List.of(new SeriesKey("db-1", "tcp", "tcp"),
            new SeriesKey("db-2", "tcp", "tcp"), new SeriesKey("db-3", "tcp", "tcp"));

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private final InMemoryHistogramStore everything = new SampleFleet().fill(new InMemoryHistogramStore());
    private final InMemoryHistogramStore heldByA = new InMemoryHistogramStore();
    private final InMemoryHistogramStore heldByB = new InMemoryHistogramStore();
    private final FakeAssignment assignment = new FakeAssignment();
    private final List<QueryApi> apis = new ArrayList<>();
    private RoutingHistogramStore routingA;
    private RoutingHistogramStore routingB;
    private QueryApi single;
    private QueryApi instanceA;
    private QueryApi instanceB;

    /** Partitions held per instance, settable while the instances run. */
    static final class FakeAssignment implements Assignment {
        final Map<HostInfo, Set<Integer>> held = new ConcurrentHashMap<>();

        @Override
        public int partitions() {
            return PARTITIONS;
        }

        @Override
        public Optional<HostInfo> activeHost(SeriesKey series) {
            int partition = Topics.seriesPartition(series, PARTITIONS);
            return held.entrySet().stream().filter(e -> e.getValue().contains(partition)).map(Map.Entry::getKey)
                    .findFirst();
        }

        @Override
        public Map<HostInfo, Set<Integer>> activePartitions() {
            return Map.copyOf(held);
        }
    }

    @BeforeAll
    void startInstances() throws IOException {
        for (int w = 0; w < SampleFleet.WINDOWS; w++) {
            long startMillis = windowStartMillis(w);
            everything.put(labelled(TestWindows.window(WEB_H2, "a", startMillis, new long[] {12_000_000L + w}, 0)));
            everything.put(TestWindows.window(WEB_H2, HistogramKey.FLEET, startMillis, new long[] {12_000_000L + w}, 0));
            everything.put(labelled(TestWindows.window(WEB_HTTP1, "a", startMillis, new long[] {15_000_000L, 14_000_000L + w}, 1)));
            everything.put(TestWindows.window(WEB_HTTP1, HistogramKey.FLEET, startMillis, new long[] {15_000_000L, 14_000_000L + w}, 1));
            for (SeriesKey db : DBS) {
                everything.put(TestWindows.window(db, HistogramKey.FLEET, startMillis, new long[] {1_000_000L * (w + 1)}, 0));
            }
        }
        for (SeriesInfo info : everything.series()) {
            InMemoryHistogramStore holder = HELD_BY_A.contains(Topics.seriesPartition(info.series(), PARTITIONS))
                    ? heldByA : heldByB;
            holder.putAll(everything.windows(info.series(), info.host(), info.resolutionSeconds(), 0, Long.MAX_VALUE));
        }
        single = start(everything, 0);
        HostInfo a;
        HostInfo b;
        try (ServerSocket first = new ServerSocket(0); ServerSocket second = new ServerSocket(0)) {
            a = new HostInfo("localhost", first.getLocalPort()); // held open together, so the two differ
            b = new HostInfo("localhost", second.getLocalPort());
        }
        routingA = new RoutingHistogramStore(heldByA, assignment, a, new PeerClient(TOKEN, Duration.ofSeconds(5)));
        routingB = new RoutingHistogramStore(heldByB, assignment, b, new PeerClient(TOKEN, Duration.ofSeconds(5)));
        instanceA = start(routingA, a.port());
        instanceB = start(routingB, b.port());
        assignment.held.put(a, HELD_BY_A);
        assignment.held.put(b, HELD_BY_B);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static WindowedHistogram labelled(WindowedHistogram window) {
        return WindowedHistogram.newBuilder(window).setLabels(Map.of("region", "eu-west-1")).build();
    }

    private QueryApi start(HistogramStore store, int port) {
        QueryApiConfig defaults = QueryApiConfig.defaultConfig();
        QueryApiConfig config = new QueryApiConfig(defaults.kafka(), new QueryApiConfig.Http(0, TOKEN, ""),
                defaults.streams(), defaults.maxRange(), defaults.maxSteps(), defaults.maxSeries(), defaults.samples(),
                defaults.metrics());
        QueryApi api = new QueryApi(store, new KafkaSampleSource(new SampleTopic()::consumer, Duration.ofMinutes(1),
                Duration.ofSeconds(5)), Clock.fixed(Instant.ofEpochMilli(windowStartMillis(SampleFleet.WINDOWS)),
                ZoneOffset.UTC), config).start(port);
        apis.add(api);
        return api;
    }

    private HttpResponse<String> get(QueryApi api, String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + api.port() + pathAndQuery));
        request.header("Authorization", "Bearer " + TOKEN);
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void the_series_are_split_between_the_instances_and_the_web_protocols_lie_on_different_ones() {
        assertThat(heldByA.series()).isNotEmpty();
        assertThat(heldByB.series()).isNotEmpty();
        assertThat(heldByA.series().size() + heldByB.series().size()).isEqualTo(everything.series().size());
        assertThat(heldByA.series(WEB_H2.target())).extracting(SeriesInfo::protocol).containsOnly("h2");
        assertThat(heldByB.series(WEB_HTTP1.target())).extracting(SeriesInfo::protocol).containsOnly("http/1.1");
    }

    @Test
    void both_instances_answer_every_query_exactly_as_one_instance_holding_everything() throws Exception {
        String range = "&from=" + windowStartMillis(0) + "&to=" + windowStartMillis(SampleFleet.WINDOWS);
        List<String> queries = List.of(
                "/api/v1/series", "/api/v1/series?label=region=eu-west-1", "/api/v1/series?probe=http&limit=3",
                "/api/v1/series?target=web", "/api/v1/series?host=a",
                "/api/v1/percentiles?target=demo-tcp&probe=tcp" + range + "&quantiles=0.5,0.99,0.999",
                "/api/v1/percentiles?target=demo-tcp&probe=tcp&host=c" + range,
                "/api/v1/percentiles?target=web&probe=http" + range,
                "/api/v1/percentiles?target=web&probe=http&protocol=http/1.1&host=a" + range,
                "/api/v1/percentiles?target=db-2&probe=tcp&from=" + windowStartMillis(3) + "&to=" + windowStartMillis(7),
                "/api/v1/timeseries?target=web&probe=http&step=20s" + range,
                "/api/v1/timeseries?target=demo-tcp&probe=tcp&latency=service" + range,
                "/api/v1/heatmap?target=demo-tcp&probe=tcp&bucketsPerDecade=20" + range,
                "/api/v1/slo?target=web&probe=http&threshold=13ms&objective=0.9" + range,
                "/api/v1/histogram?target=web&probe=http&format=base64&step=30s" + range,
                "/api/v1/histogram?target=db-1&probe=tcp" + range,
                "/api/v1/percentiles?target=nothing&probe=tcp" + range,
                "/metrics");
        for (String query : queries) {
            HttpResponse<String> expected = get(single, query);
            assertThat(expected.statusCode()).as(query).isIn(200, 404);
            for (QueryApi instance : List.of(instanceA, instanceB)) {
                HttpResponse<String> answer = get(instance, query);
                assertThat(answer.statusCode()).as(query).isEqualTo(expected.statusCode());
                assertThat(fleetFigures(answer.body())).as(query).isEqualTo(fleetFigures(expected.body()));
                assertThat(answer.headers().firstValue("X-Total-Count")).as(query)
                        .isEqualTo(expected.headers().firstValue("X-Total-Count"));
            }
        }
        assertThat(json.readTree(get(instanceA, "/api/v1/percentiles?target=web&probe=http" + range).body())
                .get("protocols")).hasSize(2);
    }

    /** An answer less the lines of {@code /metrics} about the instance itself (its cache, its queries), which differ. */
    private static String fleetFigures(String body) {
        return body.lines().filter(line -> !line.matches("(# (HELP|TYPE) )?tailprobe_query_.*"))
                .collect(Collectors.joining("\n"));
    }

    @Test
    void the_internal_routes_need_the_bearer_token_and_stay_out_of_the_api_description() throws Exception {
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create("http://localhost:"
                + instanceA.port() + PeerWire.SERIES_PATH)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(PeerWire.decodeSeries(get(instanceA, PeerWire.SERIES_PATH).body().getBytes()))
                .isEqualTo(heldByA.series());
        assertThat(get(instanceA, "/openapi.json").body()).doesNotContain("/internal/");
    }

    @Test
    void only_the_windows_an_instance_holds_itself_are_versioned_so_nothing_read_from_a_peer_is_cached() {
        for (SeriesKey db : DBS) {
            boolean heldByA = HELD_BY_A.contains(Topics.seriesPartition(db, PARTITIONS));
            assertThat(routingA.version(db, HistogramKey.FLEET, 10, 0, Long.MAX_VALUE)).as("%s", db)
                    .isEqualTo(heldByA ? heldByA().version(db, HistogramKey.FLEET, 10, 0, Long.MAX_VALUE) : HistogramStore.UNVERSIONED);
            assertThat(routingB.version(db, HistogramKey.FLEET, 10, 0, Long.MAX_VALUE) == HistogramStore.UNVERSIONED).isEqualTo(heldByA);
        }
        assertThat(routingA.seriesVersion()).isEqualTo(HistogramStore.UNVERSIONED);
    }

    private HistogramStore heldByA() {
        return routingA.local();
    }

    @Test
    void an_owner_that_refuses_connections_or_never_answers_or_no_owner_at_all_makes_the_query_a_503()
            throws Exception {
        FakeAssignment owners = new FakeAssignment();
        try (ServerSocket silent = new ServerSocket(0); // its backlog accepts connections; nobody answers
             RoutingHistogramStore routing = new RoutingHistogramStore(new InMemoryHistogramStore(), owners,
                     new HostInfo("localhost", 1), new PeerClient(TOKEN, Duration.ofMillis(300)))) {
            QueryApi asking = start(routing, 0);
            HostInfo refusing = new HostInfo("localhost", freePort());
            HostInfo neverAnswering = new HostInfo("localhost", silent.getLocalPort());
            Map<HostInfo, String> expectedMessages = Map.of(
                    refusing, "the instance localhost:" + refusing.port() + " holding the data did not answer",
                    neverAnswering, "the instance localhost:" + neverAnswering.port() + " holding the data did not answer"
                            + " within 300 ms");
            for (HostInfo owner : List.of(refusing, neverAnswering)) {
                owners.held.clear();
                owners.held.put(owner, Set.of(0, 1, 2, 3, 4, 5));
                long startNanos = System.nanoTime();
                HttpResponse<String> answer = get(asking, "/api/v1/percentiles?target=demo-tcp&probe=tcp");
                assertThat(Duration.ofNanos(System.nanoTime() - startNanos)).isLessThan(Duration.ofSeconds(3));
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
                JsonNode body = json.readTree(answer.body());
                assertThat(body.get("status").asInt()).isEqualTo(503);
                assertThat(body.get("message").asText()).startsWith(expectedMessages.get(owner));
            }
            owners.held.clear();
            HttpResponse<String> rebalancing = get(asking, "/api/v1/series");
            assertThat(rebalancing.statusCode()).isEqualTo(503);
            assertThat(json.readTree(rebalancing.body()).get("message").asText())
                    .isEqualTo("partitions [0, 1, 2, 3, 4, 5] of the histogram topics are held by no instance now"
                            + " (rebalancing)");
        }
    }

    @AfterAll
    void stopInstances() {
        apis.forEach(QueryApi::close);
        routingA.close();
        routingB.close();
    }
}
