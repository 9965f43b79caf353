package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.QueryService;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.query.store.kafka.KafkaHistogramStore;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two query API instances of one application on a real broker share the partitions of the histogram
 * topics, and answer every endpoint alike, byte for byte, whichever instance holds the series asked
 * about: 24 series (16 tcp targets, 4 http targets each over h2 and http/1.1) of 3 hosts in two regions,
 * 80 minutes of samples every 10 s around a whole hour, aggregated by the real aggregator into 10 s, 1 min
 * and 1 h windows in 6 partitions.
 */
class QueryRoutingTest {
    private static final int PARTITIONS = 6;
    private static final List<String> HOSTS = List.of("host-a", "host-b", "host-c");
    private static final long SAMPLE_INTERVAL_MILLIS = 10_000;
    /** A whole hour, three hours ago; samples run from 10 minutes before it to 10 minutes after it. */
    private static final long HOUR_MILLIS = (System.currentTimeMillis() / 3_600_000L - 3) * 3_600_000L;
    private static final long START_MILLIS = HOUR_MILLIS - 600_000;
    private static final long END_MILLIS = HOUR_MILLIS + 4_200_000;
    private static final long SAMPLES_PER_HOST = (END_MILLIS - START_MILLIS) / SAMPLE_INTERVAL_MILLIS;
    private static final List<SeriesKey> SERIES = series();

    static TestBroker broker;
    static QueryService first;
    static QueryService second;
    static Aggregator aggregator;

    @TempDir
    static Path stateDir;

    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    private static List<SeriesKey> series() {
        List<SeriesKey> series = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            series.add(new SeriesKey(String.format(Locale.ROOT, "route-tcp-%02d", t), "tcp", "tcp"));
        }
        for (int t = 0; t < 4; t++) {
            series.add(new SeriesKey("route-web-" + t, "http", "h2"));
            series.add(new SeriesKey("route-web-" + t, "http", "http/1.1"));
        }
        return List.copyOf(series);
    }

    @BeforeAll
    static void startTwoInstancesAndAggregate() {
        broker = TestBroker.start();
        Map<String, String> kafka = Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers());

        // Step 1: the topics, then two instances of one query application, each on its own port and state
        // directory, started while the topics are empty so that they share the partitions at once.
        try (Admin admin = Admin.create(Map.<String, Object>of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()))) {
            TopicSpecs.ensure(admin, PARTITIONS, (short) 1);
            // the aggregator's own resolutions (10 s, 1 min, 10 min, 1 h): an instance reads the topics listed when it starts
            Map<Integer, Duration> retention = AggregatorConfig.defaults().retentionByResolutionSeconds();
            TopicSpecs.ensureHistograms(admin, (short) 1, retention);
            // Creation returns once the controller has the topics; the broker lists them a moment later, and a
            // query instance that lists none yet refuses to start.
            await("the histogram topics listed by the broker").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100)).until(() -> admin.listTopics().names().get().containsAll(
                            retention.keySet().stream().map(Topics::histograms).toList()));
        }
        int[] ports = EmbeddedKafka.freePorts(2, 0);
        first = QueryService.start(queryConfig(kafka, ports[0], "first"));
        second = QueryService.start(queryConfig(kafka, ports[1], "second"));
        await("both instances running, each holding part of the partitions").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200)).until(() -> first.store().isRunning() && second.store().isRunning()
                        && !localPartitions(first).isEmpty() && !localPartitions(second).isEmpty()
                        && localPartitions(first).size() + localPartitions(second).size() == PARTITIONS);

        // Step 2: every sample, then the aggregator over them (so none arrives after its window closed).
        Random random = new Random(5);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 20),
                new StringSerializer(), new ByteArraySerializer())) {
            long sequence = 0;
            for (long scheduledMillis = START_MILLIS; scheduledMillis < END_MILLIS; scheduledMillis += SAMPLE_INTERVAL_MILLIS) {
                for (SeriesKey series : SERIES) {
                    for (int h = 0; h < HOSTS.size(); h++) {
                        LatencySample sample = sample(random, series, h, scheduledMillis + 100L * h, sequence++);
                        producer.send(new ProducerRecord<>(Topics.SAMPLES, series.encode(),
                                Topics.sampleSerde().encode(sample)));
                    }
                }
            }
        }
        AggregatorConfig defaults = AggregatorConfig.defaults();
        aggregator = Aggregator.start(new AggregatorConfig(kafka,
                new AggregatorConfig.Streams("routing-aggregator", stateDir.resolve("aggregator"), "exactly_once_v2", 1,
                        Duration.ofMillis(100)),
                new AggregatorConfig.Window(Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(2)),
                new AggregatorConfig.TopicsSetup(PARTITIONS, (short) 1), defaults.maxLatency(),
                new AggregatorConfig.Http(0)));
    }

    private static QueryApiConfig queryConfig(Map<String, String> kafka, int port, String name) {
        return new QueryApiConfig(kafka, new QueryApiConfig.Http(port), new QueryApiConfig.Streams("routing-query-api",
                stateDir.resolve("query-" + name).toString(), "localhost:" + port), Duration.ofDays(31));
    }


    private static Set<Integer> localPartitions(QueryService service) {
        return ((KafkaHistogramStore) service.store().local()).localPartitions();
    }

    /** One probe of {@code series} from host {@code h}: lognormal around a per-series median, 1% timeouts. */
    private static LatencySample sample(Random random, SeriesKey series, int h, long scheduledMillis, long sequence) {
        boolean timeout = random.nextInt(100) == 0;
        long serviceNanos = (long) ((2_000_000 + 500_000L * (series.target().hashCode() & 15) + 1_000_000L * h)
                * Math.exp(random.nextGaussian() * 0.4));
        long waitNanos = random.nextInt(20) == 0 ? random.nextInt(3_000_000) : random.nextInt(30_000);
        boolean http = series.probeType().equals("http");
        return LatencySample.newBuilder()
                .setHost(HOSTS.get(h)).setTarget(series.target()).setAddress("10.0.0." + h + ":443")
                .setProbeType(series.probeType()).setProtocol(series.protocol())
                .setScheduledStartMicros(scheduledMillis * 1_000).setActualStartMicros(scheduledMillis * 1_000 + waitNanos / 1_000)
                .setServiceTimeNanos(serviceNanos).setResponseTimeNanos(serviceNanos + waitNanos)
                .setOutcome(timeout ? Outcome.TIMEOUT : Outcome.OK)
                .setErrorDetail(timeout ? "connect to 10.0.0." + h + ":443 timed out" : null)
                .setPhases(http && !timeout ? PhaseTimings.newBuilder().setConnectNanos(serviceNanos / 4)
                        .setFirstByteNanos(serviceNanos / 2).setTransferNanos(serviceNanos / 4).build() : null)
                .setStatusCode(http && !timeout ? 200 : null)
                .setConnectionReused(http ? Boolean.FALSE : null)
                .setSequence(sequence)
                .setLabels(Map.of("region", h == 2 ? "us-east-1" : "eu-west-1", "az", h == 2 ? "us-east-1a"
                        : "eu-west-1" + (char) ('a' + h)))
                .build();
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (AutoCloseable service : new AutoCloseable[] {aggregator, second, first, broker}) {
            if (service != null) {
                service.close();
            }
        }
    }

    record Answer(int status, String contentType, String totalCount, String body) {}

    private Answer get(QueryService instance, String pathAndQuery) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + instance.port()
                + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                response.headers().firstValue("X-Total-Count").orElse(""), withoutOwnFigures(response.body()));
    }

    /** A body less the lines of {@code /metrics} about the instance itself (its cache, its queries), which differ. */
    private static String withoutOwnFigures(String body) {
        return body.lines().filter(line -> !line.matches("(# (HELP|TYPE) )?tailprobe_query_.*"))
                .collect(Collectors.joining("\n"));
    }

    private long count(QueryService instance, String pathAndQuery) throws Exception {
        Answer answer = get(instance, pathAndQuery);
        return answer.status() == 200 ? json.readTree(answer.body()).path("count").asLong() : -1;
    }

    @Test
    void two_instances_hold_part_of_the_partitions_each_and_give_byte_identical_answers_to_every_endpoint()
            throws Exception {
        // Step 3: the aggregator's windows of every series and resolution are in, as counted through the first instance.
        long perSeries = SAMPLES_PER_HOST * HOSTS.size();
        await("every sample counted at 10 s, 1 min, 10 min and 1 h through the first instance").atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    for (SeriesKey series : SERIES) {
                        for (String resolution : List.of("10s", "1m", "10m", "1h")) {
                            if (count(first, percentiles(series) + "&from=" + START_MILLIS + "&to=" + END_MILLIS
                                    + "&resolution=" + resolution) != perSeries) {
                                return false;
                            }
                        }
                    }
                    return true;
                });
        await("both instances ready").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(first, "/ready").status() == 200 && get(second, "/ready").status() == 200);

        // The series lie in every partition, each instance holds a part of them, and neither holds every series.
        assertThat(SERIES.stream().map(s -> Topics.seriesPartition(s, PARTITIONS)).distinct().count()).isEqualTo(PARTITIONS);
        Set<Integer> firstHolds = localPartitions(first);
        Set<Integer> secondHolds = localPartitions(second);
        assertThat(firstHolds).isNotEmpty().doesNotContainAnyElementsOf(secondHolds);
        assertThat(secondHolds).isNotEmpty();
        Set<Integer> both = new TreeSet<>(firstHolds);
        both.addAll(secondHolds);
        assertThat(both).containsExactlyElementsOf(IntStream.range(0, PARTITIONS).boxed().toList());
        List<SeriesInfo> all = first.store().series();
        List<SeriesInfo> heldByFirst = first.store().local().series();
        List<SeriesInfo> heldBySecond = second.store().local().series();
        assertThat(heldByFirst).isNotEmpty().hasSizeLessThan(all.size());
        assertThat(heldBySecond).isNotEmpty().hasSizeLessThan(all.size());
        assertThat(heldByFirst.size() + heldBySecond.size()).isEqualTo(all.size());
        assertThat(all).hasSize(SERIES.size() * (HOSTS.size() + 1)
                * AggregatorConfig.defaults().retentionByResolutionSeconds().size()); // every resolution has windows

        // Step 4: every endpoint, asked of both instances, answers the same bytes.
        String whole = "&from=" + START_MILLIS + "&to=" + END_MILLIS;
        String hour = "&from=" + HOUR_MILLIS + "&to=" + (HOUR_MILLIS + 3_600_000);
        String edges = "&from=" + (START_MILLIS + 35_000) + "&to=" + (END_MILLIS - 65_000);
        List<String> queries = new ArrayList<>(List.of(
                "/api/v1/series", "/api/v1/series?label=region=us-east-1", "/api/v1/series?target=route-web-1",
                "/api/v1/series?probe=http&limit=7", "/api/v1/series?host=host-b&label=az=eu-west-1b",
                "/api/v1/series?protocol=h2&label=region=eu-west-1",
                "/api/v1/percentiles?target=route-web-0&probe=http&phases=connect,firstByte" + whole,
                "/api/v1/percentiles?target=route-web-2&probe=http&protocol=http/1.1&host=host-c" + hour,
                "/api/v1/timeseries?target=route-web-3&probe=http&latency=connect&step=5m" + whole,
                "/api/v1/timeseries?target=route-tcp-07&probe=tcp&latency=service" + edges,
                "/api/v1/heatmap?target=route-web-1&probe=http" + hour,
                "/api/v1/heatmap?target=route-tcp-11&probe=tcp&host=host-a&bucketsPerDecade=5&step=10m" + whole,
                "/api/v1/slo?target=route-web-0&probe=http&threshold=4ms&objective=0.9" + whole,
                "/api/v1/histogram?target=route-tcp-02&probe=tcp&format=base64&step=20m" + whole,
                "/api/v1/histogram?target=route-web-2&probe=http" + edges,
                "/api/v1/samples?target=route-web-1&probe=http&protocol=h2&limit=300&from=" + HOUR_MILLIS
                        + "&to=" + (HOUR_MILLIS + 600_000),
                "/api/v1/percentiles?target=no-such-target&probe=tcp" + whole,
                "/metrics"));
        for (SeriesKey series : SERIES.subList(0, 6)) {
            for (String range : List.of(whole, hour, edges)) {
                queries.add(percentiles(series) + range);
            }
            queries.add(percentiles(series) + "&host=host-b&resolution=1m&quantiles=0.5,0.99,0.999" + edges);
        }
        for (String query : queries) {
            Answer fromFirst = get(first, query);
            Answer fromSecond = get(second, query);
            assertThat(fromFirst.status()).as(query + ": " + fromFirst.body())
                    .isEqualTo(query.contains("no-such-target") ? 404 : 200);
            assertThat(fromSecond).as(query).isEqualTo(fromFirst);
        }
        JsonNode merged = json.readTree(get(second, "/api/v1/percentiles?target=route-web-0&probe=http" + whole).body());
        assertThat(merged.path("protocols")).hasSize(2);
        assertThat(merged.path("count").asLong()).isEqualTo(2 * perSeries);
        assertThat(get(first, "/api/v1/series").totalCount()).isEqualTo(Integer.toString(all.size()));
    }

    /** The fleet-wide percentiles of one series, to be followed by a range. */
    private static String percentiles(SeriesKey series) {
        return "/api/v1/percentiles?target=" + series.target() + "&probe=" + series.probeType() + "&protocol="
                + series.protocol();
    }
}
