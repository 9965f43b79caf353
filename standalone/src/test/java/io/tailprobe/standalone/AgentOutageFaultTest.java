package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.aggregator.DeadLetterReason;
import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.spool.Spool;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent against a real broker that goes away: a {@code tailprobe agent} process probing 10 TCP
 * targets every 100 ms (100 samples/s) on a loopback server, and the broker stopped for a while. Every
 * sample the agent probed must reach {@code latency.samples} (read {@code read_committed}), once, and
 * each series' samples in the order they were probed; each test logs its figures (produced, in the
 * topic, lost, duplicated), which docs/RELIABILITY.md quotes. The outage test also runs the aggregator in
 * this JVM throughout, with a {@code window.grace} that covers the outage, and holds the fleet-wide
 * windows of the agent's series to the same count.
 *
 * <p>The broker is Kafka's own KRaft server in this JVM ({@link EmbeddedKafka}), stopped and started
 * again on the same port and data folder, as a real broker restarts (a container would come back on
 * another port); the tests share it and run one after another, each with its own agent id.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentOutageFaultTest {
    private static final Logger LOG = LoggerFactory.getLogger(AgentOutageFaultTest.class);
    private static final Path LOGS = Path.of("target", "fault-logs");
    private static final int TARGETS = 10;
    private static final Duration INTERVAL = Duration.ofMillis(100);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern STOPPED =
            Pattern.compile("stopped: (\\d+) samples probed, (\\d+) sent, (\\d+) left in the spool");

    private static final String SENT = "tailprobe_agent_samples_sent_total";
    private static final String SPOOLED = "tailprobe_agent_samples_spooled_total";
    private static final String SPOOL_DEPTH = "tailprobe_agent_spool_samples";
    private static final String OLDEST_AGE = "tailprobe_agent_spool_oldest_sample_age_seconds";
    private static final String QUEUE_DROPPED = "tailprobe_agent_samples_dropped_total";
    /**
     * The aggregator's grace in the outage test: the samples of an outage count in the live windows only
     * when the grace covers it (60 s, plus the agent's switch to the spool and the drain); see RELIABILITY.md.
     */
    private static final Duration GRACE_COVERING_THE_OUTAGE = Duration.ofSeconds(90);

    static int brokerPort;
    static EmbeddedKafka broker;
    static DemoTcpServer server;

    @TempDir
    static Path work;

    @BeforeAll
    static void startBrokerAndTarget() throws Exception {
        Files.createDirectories(LOGS);
        brokerPort = EmbeddedKafka.freePort();
        startBroker();
        try (Admin admin = Admin.create(Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()))) {
            TopicSpecs.ensure(admin, 3, (short) 1);
        }
        server = new DemoTcpServer(0, Duration.ZERO, Duration.ZERO);
    }

    @AfterAll
    static void stopBrokerAndTarget() {
        server.close();
        if (broker != null) {
            broker.close();
        }
    }

    private static void startBroker() {
        broker = EmbeddedKafka.start(brokerPort, work.resolve("broker"), Map.of());
    }

    private static void stopBroker() {
        broker.close();
        broker = null;
    }

    @Test
    @Order(1)
    void a_60_s_broker_outage_at_100_samples_per_second_loses_and_duplicates_nothing() throws Exception {
        String agentId = "outage-agent";
        int httpPort = EmbeddedKafka.freePort();
        Path agentLog = LOGS.resolve("outage-agent.log");
        Files.deleteIfExists(agentLog);
        double switchSeconds;
        double spooledAtDrain;
        double drainSeconds;
        AgentTotals totals;
        Map<String, Long> windowCounts;
        long lateDeadLetters;
        try (Aggregator aggregator = Aggregator.start(aggregatorConfig());
             ServiceProcess agent = startAgent(agentId, httpPort, work.resolve("outage-spool"), agentLog)) {
            // Step 1: the broker is up, the agent sends directly.
            await("agent sending (log " + agentLog + ")").atMost(Duration.ofSeconds(60))
                    .until(() -> metric(httpPort, SENT) >= 300);
            assertThat(metric(httpPort, SPOOLED)).isZero();

            // Step 2: the broker is gone for 60 s; within seconds the agent spools.
            long stoppedNanos = System.nanoTime();
            stopBroker();
            await().atMost(Duration.ofSeconds(15)).until(() -> metric(httpPort, SPOOLED) > 0);
            switchSeconds = (System.nanoTime() - stoppedNanos) / 1e9;
            // The outage itself: 60 s of the clock, checking the agent on the way.
            await("the 60 s outage").atMost(Duration.ofSeconds(75)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> metric(httpPort, SPOOL_DEPTH) > 0 && System.nanoTime() - stoppedNanos >= 60e9);
            assertThat(metric(httpPort, SPOOLED)).as("about 100 samples/s since the switch").isGreaterThan(5_000);
            assertThat(metric(httpPort, OLDEST_AGE)).isBetween(55.0, 75.0);

            // Step 3: the broker is back: the spool drains and the agent sends directly again.
            long restartedNanos = System.nanoTime();
            startBroker();
            await("spool drained").atMost(Duration.ofSeconds(60)).until(() -> metric(httpPort, SPOOL_DEPTH) == 0);
            drainSeconds = (System.nanoTime() - restartedNanos) / 1e9;
            spooledAtDrain = metric(httpPort, SPOOLED);
            double sentAtDrain = metric(httpPort, SENT);
            await().atMost(Duration.ofSeconds(30)).until(() -> metric(httpPort, SENT) >= sentAtDrain + 300);
            assertThat(metric(httpPort, SPOOLED)).as("direct again").isEqualTo(spooledAtDrain);
            assertThat(metric(httpPort, QUEUE_DROPPED)).isZero();
            assertThat(spoolDrops(httpPort)).isZero();
            agent.stop();
            totals = totals(agentLog);

            // Step 4: the aggregator, running throughout, counts every sample in the fleet-wide windows
            // of the agent's series, once the last ones close (idle, then the grace).
            windowCounts = awaitFleetWindowCounts(agentId + "-t", totals.probed());
            lateDeadLetters = aggregator.metrics().deadLetters(DeadLetterReason.LATE);
        }

        // Step 5: every sample the agent probed is in the topic once, each series in order.
        List<ConsumerRecord<String, LatencySample>> records = samplesOf(agentId);
        Figures figures = Figures.of(records, 0, totals.probed() - 1);
        long counted = windowCounts.values().stream().mapToLong(Long::longValue).sum();
        LOG.info("FAULT outage-60s: switched to the spool {} s after the broker began to stop, {} samples spooled, "
                        + "spool drained {} s after the broker began to start (its start-up included); produced {}, "
                        + "in topic {} ({} distinct), lost {}, duplicated {}, out of order within a series {}; "
                        + "counted in {} fleet-wide 10 s windows {}, dead-lettered as late {}",
                String.format("%.1f", switchSeconds), (long) spooledAtDrain, String.format("%.1f", drainSeconds),
                totals.probed(), records.size(), figures.distinct(), figures.lost().size(),
                figures.duplicated().size(), figures.outOfOrder(), windowCounts.size(), counted, lateDeadLetters);
        assertThat(switchSeconds).as("the switch happens within seconds").isLessThan(10.0);
        assertThat(totals.leftInSpool()).isZero();
        assertThat(totals.sent()).isEqualTo(totals.probed());
        assertThat(figures.lost()).isEmpty();
        assertThat(figures.duplicated()).isEmpty();
        assertThat(figures.outOfOrder()).isZero();
        assertThat(records).hasSize((int) totals.probed());
        assertThat(counted).as("samples counted in the aggregates").isEqualTo(totals.probed());
        assertThat(lateDeadLetters).isZero();
    }

    @Test
    @Order(2)
    void samples_spooled_before_a_sigkill_are_sent_after_the_restart() throws Exception {
        String agentId = "killed-agent";
        int httpPort = EmbeddedKafka.freePort();
        Path spoolDir = work.resolve("killed-spool");
        Path agentLog = LOGS.resolve("killed-agent.log");
        Files.deleteIfExists(agentLog);
        ServiceProcess agent = startAgent(agentId, httpPort, spoolDir, agentLog);
        long stoppedAtMillis;
        long secondRunFrom;
        TreeSet<Long> spooledAtKill;
        double tornAtKill;
        try {
            // Step 1: the broker is up, the agent sends directly.
            await("agent sending (log " + agentLog + ")").atMost(Duration.ofSeconds(60))
                    .until(() -> metric(httpPort, SENT) >= 300);

            // Step 2: the broker goes away; once 1,500 samples are spooled, the agent is killed (SIGKILL).
            stopBroker();
            stoppedAtMillis = System.currentTimeMillis();
            await().atMost(Duration.ofSeconds(60)).until(() -> metric(httpPort, SPOOL_DEPTH) >= 1_500);
            agent.kill();

            // Step 3: what it left, read as the next run will: the spool, and the sequence it had reserved.
            secondRunFrom = Long.parseLong(Files.readString(spoolDir.resolve("sequence")).strip());
            AgentMetrics readerMetrics = new AgentMetrics();
            spooledAtKill = new TreeSet<>();
            try (Spool spool = Spool.open(spoolDir, AgentConfig.DEFAULT_SPOOL_MAX_BYTES,
                    AgentConfig.DEFAULT_SPOOL_MAX_AGE, Spool.DEFAULT_SEGMENT_BYTES, readerMetrics, Clock.systemUTC())) {
                for (List<Spool.Entry> read = spool.readNext(10_000); !read.isEmpty(); read = spool.readNext(10_000)) {
                    read.forEach(e -> spooledAtKill.add(e.sample().getSequence()));
                }
            }
            tornAtKill = readerMetrics.spoolDropped(Spool.DropReason.CORRUPT);

            // Step 4: restarted while the broker is still down, it spools behind what the first run left.
            agent = startAgent(agentId, httpPort, spoolDir, agentLog);
            await("restarted agent spooling").atMost(Duration.ofSeconds(60))
                    .until(() -> metric(httpPort, SPOOLED) >= 300
                            && metric(httpPort, SPOOL_DEPTH) >= spooledAtKill.size() + 300);

            // Step 5: the broker is back: both runs' samples drain.
            startBroker();
            await("spool drained").atMost(Duration.ofSeconds(60)).until(() -> metric(httpPort, SPOOL_DEPTH) == 0);
            assertThat(metric(httpPort, QUEUE_DROPPED)).isZero();
            assertThat(spoolDrops(httpPort)).isZero();
            agent.stop();
        } finally {
            agent.close();
        }

        AgentTotals secondRun = totals(agentLog);
        List<ConsumerRecord<String, LatencySample>> records = samplesOf(agentId);
        List<ConsumerRecord<String, LatencySample>> firstRunRecords = records.stream()
                .filter(r -> r.value().getSequence() < secondRunFrom).toList();
        List<ConsumerRecord<String, LatencySample>> secondRunRecords = records.stream()
                .filter(r -> r.value().getSequence() >= secondRunFrom).toList();
        Set<Long> inTopic = records.stream().map(r -> r.value().getSequence()).collect(Collectors.toSet());
        Set<Long> spooledButLost = new TreeSet<>(spooledAtKill);
        spooledButLost.removeAll(inTopic);
        // The first run's last sample is the highest number in its spool: the kill came while it spooled.
        long firstRunLast = spooledAtKill.last();
        Figures first = Figures.of(firstRunRecords, 0, firstRunLast);
        Figures second = Figures.of(secondRunRecords, secondRunFrom, secondRunFrom + secondRun.probed() - 1);
        LOG.info("FAULT sigkill-while-spooling: first run produced {} (0..{}), {} of them in its spool at the kill "
                        + "({} torn records found), {} spooled ones lost, {} lost from memory at the kill, "
                        + "{} duplicated; second run (from {}) produced {}, in topic {}, lost {}, duplicated {}; "
                        + "out of order within a series {}",
                firstRunLast + 1, firstRunLast, spooledAtKill.size(), (long) tornAtKill, spooledButLost.size(),
                first.lost().size(), first.duplicated().size(), secondRunFrom, secondRun.probed(), second.distinct(),
                second.lost().size(), second.duplicated().size(), first.outOfOrder() + second.outOfOrder());

        assertThat(spooledAtKill).hasSizeGreaterThanOrEqualTo(1_500);
        assertThat(spooledButLost).as("spooled before the kill, never sent").isEmpty();
        // Samples probed but not yet on disk died with the process: the hand-off queue holds about one at
        // 100 samples/s. Those numbered after the last spooled one cannot be seen from outside; the
        // figure counts those numbered before it (a pacer can hand over its sample a moment after another's).
        assertThat(first.lost()).hasSizeLessThan(10);
        // A duplicate can only be a sample the broker had written when it stopped without answering: the
        // agent copied it to the spool at the switch and was killed before the producer could retry it
        // under its idempotent id, so the next run sent it again. None is from after the broker stopped.
        assertThat(first.duplicated()).allSatisfy(sequence -> assertThat(firstRunRecords.stream()
                .filter(r -> r.value().getSequence() == sequence).findFirst().orElseThrow()
                .value().getScheduledStartMicros()).isLessThanOrEqualTo(stoppedAtMillis * 1_000));
        assertThat(second.lost()).isEmpty();
        assertThat(second.duplicated()).isEmpty();
        assertThat(first.outOfOrder() + second.outOfOrder()).isZero();
        assertThat(secondRun.leftInSpool()).isZero();
    }

    private static ServiceProcess startAgent(String agentId, int httpPort, Path spoolDir, Path log) throws IOException {
        StringBuilder yaml = new StringBuilder()
                .append("agent: {id: ").append(agentId).append("}\n")
                .append("http: {port: ").append(httpPort).append("}\n")
                .append("kafka: {bootstrap.servers: 'localhost:").append(brokerPort).append("'}\n")
                .append("spool: {directory: '").append(spoolDir).append("'}\n")
                .append("targets:\n");
        for (int t = 0; t < TARGETS; t++) {
            yaml.append("  - {name: ").append(agentId).append("-t").append(t).append(", type: tcp, address: '")
                    .append(server.address()).append("', interval: ").append(INTERVAL.toMillis()).append("ms}\n");
        }
        Path config = Files.writeString(work.resolve(agentId + ".yaml"), yaml);
        return ServiceProcess.start(log, "agent", config, List.of());
    }

    /** An aggregator of the 10 s windows whose grace covers the outage; default rollups, idle close and guarantee. */
    private static AggregatorConfig aggregatorConfig() {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        return new AggregatorConfig(Map.of(KafkaSettings.BOOTSTRAP_SERVERS, "localhost:" + brokerPort),
                new AggregatorConfig.Streams("outage-aggregator", work.resolve("outage-aggregator"),
                        defaults.streams().processingGuarantee(), 1, defaults.streams().commitInterval()),
                new AggregatorConfig.Window(defaults.window().size(), GRACE_COVERING_THE_OUTAGE,
                        defaults.window().idleClose()),
                defaults.topics(), defaults.maxLatency(), new AggregatorConfig.Http(0));
    }

    /**
     * Waits until the fleet-wide 10 s windows of the targets starting with {@code prefix} hold
     * {@code expected} samples in all (read {@code read_committed}, as the query API reads them), and
     * returns their counts by key; fails on a window emitted twice.
     */
    private static Map<String, Long> awaitFleetWindowCounts(String prefix, long expected) {
        Map<String, Long> counts = new HashMap<>();
        await("fleet-wide windows of " + prefix + "* adding up to " + expected)
                .atMost(GRACE_COVERING_THE_OUTAGE.plusSeconds(90)).pollInterval(Duration.ofSeconds(2))
                .untilAsserted(() -> {
                    counts.clear();
                    for (ConsumerRecord<String, byte[]> record : committed(Topics.histograms(10))) {
                        HistogramKey key = HistogramKey.parse(record.key());
                        if (key.series().target().startsWith(prefix) && key.host().equals(HistogramKey.FLEET)) {
                            assertThat(counts.put(record.key(), Topics.histogramSerde().decode(record.value())
                                    .getSampleCount())).as("window %s emitted twice", record.key()).isNull();
                        }
                    }
                    assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(expected);
                });
        return counts;
    }

    /** Every committed record of {@code topic}, from the beginning to its end as of now. */
    private static List<ConsumerRecord<String, byte[]>> committed(String topic) {
        return CommittedRecords.of(broker.bootstrapServers(), topic);
    }

    /** One figure from the agent's /metrics (the sample's value, or the sum over its labels); 0 if absent. */
    private static double metric(int httpPort, String name) {
        String body;
        try {
            body = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(body);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum;
    }

    private static double spoolDrops(int httpPort) {
        return metric(httpPort, "tailprobe_agent_spool_samples_dropped_total");
    }

    /** The agent's last words on a clean stop: samples probed, sent, left in the spool. */
    private record AgentTotals(long probed, long sent, long leftInSpool) {}

    private static AgentTotals totals(Path agentLog) throws IOException {
        Matcher m = STOPPED.matcher(Files.readString(agentLog));
        AgentTotals last = null;
        while (m.find()) {
            last = new AgentTotals(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
        }
        assertThat(last).as("the agent's stop line in " + agentLog).isNotNull();
        return last;
    }

    /**
     * What the topic holds of the sequence numbers {@code first..last}: which are missing, which appear
     * more than once, and how often a series' sample follows a later one of the same series (first
     * copies only). Order is a series' promise: the pacers of different targets number their samples
     * concurrently, so two series sharing a partition may interleave n + 1 before n.
     */
    private record Figures(long distinct, List<Long> lost, List<Long> duplicated, int outOfOrder) {
        static Figures of(List<ConsumerRecord<String, LatencySample>> records, long first, long last) {
            Map<Long, Integer> copies = new HashMap<>();
            Map<String, Long> lastBySeries = new HashMap<>();
            int outOfOrder = 0;
            for (ConsumerRecord<String, LatencySample> record : records) {
                long sequence = record.value().getSequence();
                if (copies.merge(sequence, 1, Integer::sum) > 1) {
                    continue;
                }
                Long previous = lastBySeries.put(record.key(), sequence);
                if (previous != null && sequence < previous) {
                    outOfOrder++;
                }
            }
            List<Long> lost = LongStream.rangeClosed(first, last).filter(s -> !copies.containsKey(s)).boxed().toList();
            List<Long> duplicated = copies.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                    .sorted().toList();
            return new Figures(copies.size(), lost, duplicated, outOfOrder);
        }
    }

    /** The agent's samples in {@code latency.samples}, each partition's in offset order. */
    private static List<ConsumerRecord<String, LatencySample>> samplesOf(String agentId) {
        List<ConsumerRecord<String, LatencySample>> records = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : committed(Topics.SAMPLES)) {
            LatencySample sample = Topics.sampleSerde().decode(r.value());
            if (sample.getHost().equals(agentId)) {
                records.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.key(), sample));
            }
        }
        return records;
    }
}
