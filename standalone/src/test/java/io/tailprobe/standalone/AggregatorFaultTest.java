package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.aggregator.DeadLetterReason;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The aggregator against a real broker when things go wrong: processes killed without a close,
 * instances added and removed mid-run, garbage among the samples. In every case the fleet-wide
 * counts of the closed windows must equal the samples produced, exactly: nothing lost, nothing
 * counted twice (histograms are read {@code read_committed}, as the query API reads them).
 *
 * <p>The tests share one broker and {@code latency.samples}; each uses its own targets and its own
 * application id, and counts only its own series. They run one after another, smallest first, and
 * each stops its aggregators before the next starts, so only one application ever emits a test's
 * windows (a later application re-reads the earlier tests' samples too, under their targets).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AggregatorFaultTest {
    private static final int HOSTS = 20;
    private static final int TARGETS = 10;
    private static final Duration IDLE_CLOSE = Duration.ofSeconds(3);

    /** The aggregators' logs, kept after the run (target/ of this module). */
    private static final Path LOGS = Path.of("target", "fault-logs");

    static TestBroker broker;

    @TempDir
    static Path work;

    @BeforeAll
    static void startBroker() throws Exception {
        Files.createDirectories(LOGS);
        broker = TestBroker.start();
        try (Admin admin = Admin.create(Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()))) {
            TopicSpecs.ensure(admin, 6, (short) 1);
        }
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    @Test
    @Order(3)
    void killed_three_times_without_a_close_during_200000_samples_the_counts_are_exact() throws Exception {
        String prefix = "kill";
        int samples = 200_000;
        String app = "fault-kill";
        List<String> sets = aggregatorSets(app, work.resolve("kill-state"));
        List<Long> killedAtOffsets = new ArrayList<>();
        CompletableFuture<Void> production = produceInBackground(prefix, samples, 5_000);

        ServiceProcess aggregator = ServiceProcess.start(LOGS.resolve("kill-aggregator.log"), "aggregator", sets);
        try {
            for (int kill = 0; kill < 3; kill++) {
                long before = committedOffsets(app);
                await("aggregator committing (log " + aggregator.log() + ")").atMost(Duration.ofSeconds(90))
                        .until(() -> committedOffsets(app) >= before + 15_000);
                aggregator.kill();
                killedAtOffsets.add(committedOffsets(app));
                aggregator = ServiceProcess.start(LOGS.resolve("kill-aggregator.log"), "aggregator", sets);
            }
            production.get(120, TimeUnit.SECONDS);

            Map<String, Long> counts = awaitFleetCounts(prefix, samples);
            // Minute rollups were open across every kill: rebuilt from the emitted 10 s windows each time.
            Map<String, Long> minuteCounts = awaitFleetCounts(prefix, samples, 60);

            assertThat(killedAtOffsets).hasSize(3).doesNotHaveDuplicates();
            assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(samples);
            assertThat(minuteCounts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(samples);
            assertThat(Pattern.compile("task \\S+ restored [1-9]\\d* open windows .*: [1-9]\\d* samples replayed")
                    .matcher(Files.readString(aggregator.log())).results().count())
                    .as("restarts that rebuilt open windows from replayed samples (log %s)", aggregator.log())
                    .isGreaterThanOrEqualTo(3);
            assertThat(deadLetters(prefix)).isEmpty();
        } finally {
            aggregator.close();
        }
    }

    @Test
    @Order(2)
    void going_from_one_to_two_to_one_instance_mid_run_the_counts_are_exact() throws Exception {
        String prefix = "scale";
        int samples = 100_000;
        String app = "fault-scale";
        CompletableFuture<Void> production = produceInBackground(prefix, samples, 5_000);

        try (ServiceProcess first = ServiceProcess.start(LOGS.resolve("scale-1.log"), "aggregator",
                aggregatorSets(app, work.resolve("scale-state-1")))) {
            await().atMost(Duration.ofSeconds(90)).until(() -> committedOffsets(app) >= 10_000);
            try (ServiceProcess second = ServiceProcess.start(LOGS.resolve("scale-2.log"), "aggregator",
                    aggregatorSets(app, work.resolve("scale-state-2")))) {
                long beforeSecond = committedOffsets(app);
                await("two instances committing").atMost(Duration.ofSeconds(90))
                        .until(() -> committedOffsets(app) >= beforeSecond + 20_000);
                second.stop();
            }
            production.get(120, TimeUnit.SECONDS);

            Map<String, Long> counts = awaitFleetCounts(prefix, samples);

            assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(samples);
            assertThat(deadLetters(prefix)).isEmpty();
            assertThat(first.isAlive()).isTrue();
        }
    }

    @Test
    @Order(1)
    void a_thousand_garbage_records_among_good_ones_are_all_dead_lettered_with_their_reason() throws Exception {
        String prefix = "garbage";
        int good = 10_000;
        Map<String, DeadLetterReason> garbage = new HashMap<>();
        AggregatorConfig config = AggregatorConfig.defaults();
        Map<String, String> kafka = new HashMap<>(config.kafka());
        kafka.put(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        config = new AggregatorConfig(kafka,
                new AggregatorConfig.Streams("fault-garbage", work.resolve("garbage-state"), "exactly_once_v2", 1,
                        Duration.ofMillis(100)),
                new AggregatorConfig.Window(Duration.ofSeconds(10), Duration.ofSeconds(5), IDLE_CLOSE),
                config.topics(), config.maxLatency(), new AggregatorConfig.Http(0));

        try (Aggregator aggregator = Aggregator.start(config);
             KafkaProducer<String, byte[]> producer = producer()) {
            Random random = new Random(7);
            long sequence = 0;
            for (int i = 0; i < good + 1_000; i++) {
                if (i % 11 == 10) {
                    int n = garbage.size();
                    String key = prefix + "-bad-" + n + "|tcp|tcp";
                    DeadLetterReason reason = DeadLetterReason.values()[n % 3];
                    byte[] value = switch (reason) {
                        case UNDECODABLE -> n % 2 == 0 ? randomBytes(random, 1 + random.nextInt(200))
                                : unknownSchemaFingerprint(random);
                        case INVALID -> Topics.sampleSerde().encode(sample(prefix + "-bad-" + n, "h", -5, sequence++));
                        case KEY_MISMATCH -> Topics.sampleSerde().encode(sample(prefix + "-other", "h", 1_000_000, sequence++));
                        case LATE -> throw new AssertionError();
                    };
                    garbage.put(key, reason);
                    producer.send(new ProducerRecord<>(Topics.SAMPLES, key, value));
                } else {
                    LatencySample sample = sample(prefix + "-t" + i % TARGETS, "host-" + i % HOSTS,
                            1_000_000 + random.nextInt(50_000_000), sequence++);
                    producer.send(new ProducerRecord<>(Topics.SAMPLES, SeriesKey.of(sample).encode(),
                            Topics.sampleSerde().encode(sample)));
                }
            }
            producer.flush();

            Map<String, Long> counts = awaitFleetCounts(prefix + "-t", good);
            await().atMost(Duration.ofSeconds(60)).until(() -> deadLetters(prefix).size() >= 1_000);

            List<ConsumerRecord<String, byte[]>> dead = deadLetters(prefix);
            assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(good);
            assertThat(dead).hasSize(1_000);
            for (ConsumerRecord<String, byte[]> record : dead) {
                assertThat(header(record, "tailprobe.reason")).as(record.key())
                        .isEqualTo(garbage.get(record.key()).header());
                assertThat(header(record, "tailprobe.detail")).isNotBlank();
            }
            assertThat(aggregator.metrics().deadLetters(DeadLetterReason.UNDECODABLE)).isEqualTo(334);
            assertThat(aggregator.metrics().deadLetters(DeadLetterReason.INVALID)).isEqualTo(333);
            assertThat(aggregator.metrics().deadLetters(DeadLetterReason.KEY_MISMATCH)).isEqualTo(333);
            assertThat(aggregator.state().isRunningOrRebalancing()).isTrue();
        }
    }

    private static List<String> aggregatorSets(String applicationId, Path stateDir) {
        return List.of("kafka.bootstrap.servers=" + broker.bootstrapServers(),
                "streams.applicationId=" + applicationId,
                "streams.stateDir=" + stateDir,
                "http.port=0",
                "window.idleClose=" + IDLE_CLOSE.toSeconds() + "s");
    }

    /** {@code count} samples of TARGETS × HOSTS series-hosts, scheduled now, at about {@code perSecond}. */
    private static CompletableFuture<Void> produceInBackground(String prefix, int count, int perSecond) {
        return CompletableFuture.runAsync(() -> {
            Random random = new Random(prefix.hashCode());
            try (KafkaProducer<String, byte[]> producer = producer()) {
                long start = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    long due = start + i * 1_000_000_000L / perSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait); // pacing the producer, not synchronizing with it
                    }
                    LatencySample sample = sample(prefix + "-t" + i % TARGETS, "host-" + (i / TARGETS) % HOSTS,
                            1_000_000 + random.nextInt(50_000_000), i);
                    producer.send(new ProducerRecord<>(Topics.SAMPLES, SeriesKey.of(sample).encode(),
                            Topics.sampleSerde().encode(sample)));
                }
                producer.flush();
            }
        });
    }

    private static LatencySample sample(String target, String host, long serviceNanos, long sequence) {
        long nowMicros = System.currentTimeMillis() * 1000;
        return LatencySample.newBuilder()
                .setHost(host).setTarget(target).setAddress("10.0.0.1:5432")
                .setProbeType("tcp").setProtocol("tcp")
                .setScheduledStartMicros(nowMicros).setActualStartMicros(nowMicros)
                .setServiceTimeNanos(serviceNanos).setResponseTimeNanos(serviceNanos)
                .setOutcome(serviceNanos > 40_000_000 ? Outcome.TIMEOUT : Outcome.OK)
                .setSequence(sequence)
                .build();
    }

    private static KafkaProducer<String, byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    private static long committedOffsets(String applicationId) throws Exception {
        try (Admin admin = Admin.create(Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(applicationId).partitionsToOffsetAndMetadata().get();
            return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(Topics.SAMPLES))
                    .filter(e -> e.getValue() != null).mapToLong(e -> e.getValue().offset()).sum();
        }
    }

    /**
     * Waits until the closed fleet-wide 10 s windows of the targets starting with {@code prefix} hold
     * {@code expected} samples in all, and returns their counts by key; fails on a key emitted twice.
     */
    private static Map<String, Long> awaitFleetCounts(String prefix, long expected) {
        return awaitFleetCounts(prefix, expected, 10);
    }

    /** As {@link #awaitFleetCounts(String, long)}, for the windows of {@code resolutionSeconds}. */
    private static Map<String, Long> awaitFleetCounts(String prefix, long expected, int resolutionSeconds) {
        AtomicLong seen = new AtomicLong();
        Map<String, Long> counts = new HashMap<>();
        await("fleet-wide " + resolutionSeconds + " s windows of " + prefix + "* adding up to " + expected).atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    counts.clear();
                    for (ConsumerRecord<String, byte[]> record : readAll(Topics.histograms(resolutionSeconds))) {
                        HistogramKey key = HistogramKey.parse(record.key());
                        if (key.series().target().startsWith(prefix) && key.host().equals(HistogramKey.FLEET)
                                && key.resolutionSeconds() == resolutionSeconds) {
                            WindowedHistogram window = Topics.histogramSerde().decode(record.value());
                            assertThat(counts.put(record.key(), window.getSampleCount()))
                                    .as("window %s emitted twice", record.key()).isNull();
                        }
                    }
                    seen.set(counts.values().stream().mapToLong(Long::longValue).sum());
                    assertThat(seen.get()).isEqualTo(expected);
                });
        return counts;
    }

    private static List<ConsumerRecord<String, byte[]>> deadLetters(String prefix) {
        return readAll(Topics.DEAD_LETTERS).stream().filter(r -> r.key() != null && r.key().startsWith(prefix)).toList();
    }

    private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
        return CommittedRecords.of(broker.bootstrapServers(), topic);
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Avro's single-object marker (C3 01) with a schema fingerprint no schema has. */
    private static byte[] unknownSchemaFingerprint(Random random) {
        byte[] bytes = randomBytes(random, 40);
        bytes[0] = (byte) 0xC3;
        bytes[1] = 0x01;
        return bytes;
    }
}
