package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatencyTopologyTest {
    static final SeriesKey SERIES = new SeriesKey("db", "tcp", "tcp");
    /** 2026-11-23T14:02:00Z, the start of a 10 s window. */
    static final long T0_MILLIS = 1_795_442_520_000L;

    @TempDir
    Path stateDir;

    TopologyTestDriver driver;
    TestInputTopic<String, byte[]> samples;
    /** The histogram topics of the 10 s, 1 min, 10 min and 1 h windows, by resolution in seconds. */
    Map<Integer, TestOutputTopic<String, byte[]>> histogramTopics;
    TestOutputTopic<String, byte[]> deadLetters;
    AggregatorMetrics metrics;
    long sequence;

    @BeforeEach
    void start() {
        start(AggregatorConfig.Window.DEFAULT_ROLLUPS, AggregatorConfig.Window.DEFAULT_RETENTION);
    }

    /** Starts the topology with these rollups (and their windows' retention) instead of the default ones. */
    private void start(List<Duration> rollups, Map<String, Duration> retention) {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        AggregatorConfig config = new AggregatorConfig(defaults.kafka(), defaults.streams(),
                new AggregatorConfig.Window(Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(30),
                        rollups, retention),
                defaults.topics(), defaults.maxLatency());
        metrics = new AggregatorMetrics();
        var props = Aggregator.streamsProperties(config);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(LatencyTopology.build(config, metrics), props, Instant.ofEpochMilli(T0_MILLIS));
        samples = driver.createInputTopic(Topics.SAMPLES, new StringSerializer(), new ByteArraySerializer());
        histogramTopics = new TreeMap<>();
        for (int seconds : config.retentionByResolutionSeconds().keySet()) { // by default 10 s, 1 min, 10 min, 1 h
            histogramTopics.put(seconds, driver.createOutputTopic(Topics.histograms(seconds), new StringDeserializer(),
                    new ByteArrayDeserializer()));
        }
        deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void a_window_goes_to_its_series_partition_read_from_the_key_without_parsing_it() {
        for (String key : List.of("db|tcp|tcp|*|10|0001763900000000", "api|http|h2|host-7|3600|0001763899200000",
                "ünï|dns|udp|h|60|0000000000000000")) {
            HistogramKey parsed = HistogramKey.parse(key);
            assertThat(LatencyTopology.seriesOf(key)).isEqualTo(parsed.series().encode());
            for (int partitions : new int[] {1, 6, 7, 64}) {
                assertThat(LatencyTopology.seriesPartitioner().partitions("t", key, null, partitions))
                        .contains(Set.of(Topics.seriesPartition(parsed.series(), partitions)));
            }
        }
        assertThatThrownBy(() -> LatencyTopology.seriesOf("db|tcp"))
                .hasMessage("not a histogram key: \"db|tcp\"");
    }

    @Test
    void thousand_samples_over_three_hosts_and_two_windows_give_exact_per_host_and_fleet_histograms() {
        Random random = new Random(42);
        String[] hosts = {"host-a", "host-b", "host-c"};
        Map<HistogramKey, List<Long>> raw = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            long windowStart = T0_MILLIS + (i < 500 ? 0 : 10_000);
            long scheduledMillis = windowStart + random.nextInt(10_000);
            String host = hosts[i % 3];
            // host-c is slower, so per-host and fleet figures differ
            long responseNanos = 1_000_000L + random.nextInt(50_000_000) + (host.equals("host-c") ? 30_000_000L : 0);
            send(sample(host, scheduledMillis, responseNanos - 100_000L, responseNanos, Outcome.OK));
            raw.computeIfAbsent(new HistogramKey(SERIES, host, 10, windowStart), k -> new ArrayList<>()).add(responseNanos);
            raw.computeIfAbsent(new HistogramKey(SERIES, HistogramKey.FLEET, 10, windowStart), k -> new ArrayList<>()).add(responseNanos);
        }
        // The first window closed once the second window's samples moved stream time past its end + 2 s grace.
        Map<HistogramKey, WindowedHistogram> emitted = readHistograms();
        assertThat(emitted.keySet()).extracting(HistogramKey::windowStartMillis).containsOnly(T0_MILLIS).hasSize(4);

        // A sample past the second window's end + grace closes that one too.
        send(sample("host-a", T0_MILLIS + 22_000, 1_000_000L, 1_000_000L, Outcome.OK));
        emitted.putAll(readHistograms());
        assertThat(emitted.keySet()).containsExactlyInAnyOrderElementsOf(raw.keySet());
        assertThat(emitted).hasSize(8);
        for (Map.Entry<HistogramKey, List<Long>> expected : raw.entrySet()) {
            WindowedHistogram window = emitted.get(expected.getKey());
            long[] values = expected.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            Histogram response = LatencyHistograms.decode(window.getResponseTimeHistogram());
            assertThat(window.getSampleCount()).isEqualTo(values.length);
            assertThat(response.getTotalCount()).isEqualTo(values.length);
            assertThat(window.getOutcomeCounts()).containsExactly(Map.entry("OK", (long) values.length));
            assertThat(window.getMinResponseTimeNanos()).isEqualTo(values[0]);
            assertThat(window.getMaxResponseTimeNanos()).isEqualTo(values[values.length - 1]);
            assertThat(response.getValueAtPercentile(50.0)).as("p50 of " + expected.getKey())
                    .isCloseTo(exactPercentile(values, 50.0), Percentage.withPercentage(0.1));
            assertThat(response.getValueAtPercentile(99.0)).as("p99 of " + expected.getKey())
                    .isCloseTo(exactPercentile(values, 99.0), Percentage.withPercentage(0.1));
            assertThat(window.getWindowEndMillis() - window.getWindowStartMillis()).isEqualTo(10_000L);
        }
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS)).getSampleCount()).isEqualTo(500);
        assertThat(metrics.windowsEmitted()).isEqualTo(8);
        assertThat(deadLetters.isEmpty()).isTrue();
    }

    @Test
    void host_windows_carry_their_labels_and_fleet_wide_and_rollup_windows_those_every_host_shares() {
        for (String host : List.of("host-a", "host-b")) {
            for (int i = 0; i < 3; i++) {
                LatencySample sample = sample(host, T0_MILLIS + i * 1_000, 1_000_000L, 1_000_000L, Outcome.OK);
                sample.setLabels(Map.of("region", "eu-west-1", "az", host.equals("host-a") ? "eu-west-1a" : "eu-west-1b"));
                send(sample);
            }
        }
        send(sample("host-a", T0_MILLIS + 70_000, 1_000_000L, 1_000_000L, Outcome.OK)); // closes the first minute

        Map<HistogramKey, WindowedHistogram> emitted = readHistograms();

        assertThat(emitted.get(new HistogramKey(SERIES, "host-b", 10, T0_MILLIS)).getLabels())
                .isEqualTo(Map.of("region", "eu-west-1", "az", "eu-west-1b"));
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS)).getLabels())
                .isEqualTo(Map.of("region", "eu-west-1"));
        assertThat(emitted.get(new HistogramKey(SERIES, "host-a", 60, T0_MILLIS)).getLabels())
                .isEqualTo(Map.of("region", "eu-west-1", "az", "eu-west-1a"));
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 60, T0_MILLIS)).getLabels())
                .isEqualTo(Map.of("region", "eu-west-1"));
    }

    @Test
    void closed_base_windows_roll_up_exactly_into_minute_windows() {
        Random random = new Random(7);
        Map<Long, List<Long>> rawByMinute = new HashMap<>();
        for (int i = 0; i < 1200; i++) {
            long scheduledMillis = T0_MILLIS + i * 100L; // two minutes at 10 samples/s
            long responseNanos = 2_000_000L + random.nextInt(80_000_000);
            send(sample("host-" + (i % 2), scheduledMillis, responseNanos, responseNanos, Outcome.OK));
            long minute = scheduledMillis - Math.floorMod(scheduledMillis, 60_000L);
            rawByMinute.computeIfAbsent(minute, k -> new ArrayList<>()).add(responseNanos);
        }
        send(sample("host-0", T0_MILLIS + 125_000, 1_000_000L, 1_000_000L, Outcome.OK)); // closes both minutes

        Map<HistogramKey, WindowedHistogram> emitted = readHistograms();
        Histogram sumOfBaseWindows = LatencyHistograms.newHistogram();
        emitted.forEach((key, window) -> {
            if (key.host().equals(HistogramKey.FLEET) && key.resolutionSeconds() == 10 && key.windowStartMillis() < T0_MILLIS + 60_000) {
                sumOfBaseWindows.add(LatencyHistograms.decode(window.getResponseTimeHistogram()));
            }
        });
        for (Map.Entry<Long, List<Long>> minute : rawByMinute.entrySet()) {
            WindowedHistogram rollup = emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 60, minute.getKey()));
            long[] values = minute.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            assertThat(rollup.getSampleCount()).isEqualTo(600);
            assertThat(rollup.getWindowEndMillis()).isEqualTo(minute.getKey() + 60_000L);
            assertThat(rollup.getMinResponseTimeNanos()).isEqualTo(values[0]);
            assertThat(rollup.getMaxResponseTimeNanos()).isEqualTo(values[values.length - 1]);
            Histogram response = LatencyHistograms.decode(rollup.getResponseTimeHistogram());
            assertThat(response.getValueAtPercentile(99.0))
                    .isCloseTo(exactPercentile(values, 99.0), Percentage.withPercentage(0.1));
            assertThat(emitted.get(new HistogramKey(SERIES, "host-1", 60, minute.getKey())).getSampleCount()).isEqualTo(300);
        }
        assertThat(LatencyHistograms.decode(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 60, T0_MILLIS))
                .getResponseTimeHistogram())).as("a rollup is exactly the sum of its base windows").isEqualTo(sumOfBaseWindows);
        assertThat(emitted.keySet()).noneMatch(k -> k.resolutionSeconds() == 3600);
    }

    @Test
    void ten_minute_and_hour_windows_are_exact_sums_of_their_minutes_even_for_a_series_seen_once_a_minute() {
        long hour = T0_MILLIS - Math.floorMod(T0_MILLIS, 3_600_000L); // 14:00
        long endMillis = hour + 70 * 60_000L; // 15:10
        Map<HistogramKey, WindowedHistogram> emitted = sendSeventyMinutesAndReadWhatCloses(endMillis, 10, 60, 600, 3600);

        SeriesKey rare = new SeriesKey("cache", "tcp", "tcp");
        assertThat(emitted.get(new HistogramKey(rare, HistogramKey.FLEET, 600, hour + 10 * 60_000L)).getSampleCount())
                .isEqualTo(10);
        assertThat(emitted.get(new HistogramKey(rare, HistogramKey.FLEET, 3600, hour)).getSampleCount()).isEqualTo(58);
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 3600, hour)).getSampleCount())
                .isEqualTo(2 * 58 * 12);
        // 10 min: 14:00 to 15:10, 7 windows × (3 SERIES + 2 RARE); 1 h: 14:00, 5 windows
        assertThat(emitted.keySet().stream().filter(key -> key.resolutionSeconds() >= 600
                && key.windowStartMillis() + key.resolutionSeconds() * 1000L <= endMillis)).hasSize(7 * 5 + 5);
    }

    /**
     * A first rollup of many base windows (5 min: 30) is made by adding the base windows, not from their
     * samples held for 5 min; its windows must be as exact as a minute's made from its samples.
     */
    @Test
    void a_first_rollup_too_long_to_hold_its_samples_is_made_of_the_base_windows_as_exactly() {
        driver.close();
        start(List.of(Duration.ofMinutes(5), Duration.ofHours(1)),
                Map.of("10s", Duration.ofDays(7), "5m", Duration.ofDays(90), "1h", Duration.ofDays(730)));
        long hour = T0_MILLIS - Math.floorMod(T0_MILLIS, 3_600_000L);
        long endMillis = hour + 70 * 60_000L;

        Map<HistogramKey, WindowedHistogram> emitted = sendSeventyMinutesAndReadWhatCloses(endMillis, 10, 300, 3600);

        assertThat(emitted.keySet()).extracting(HistogramKey::resolutionSeconds).containsOnly(10, 300, 3600);
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 300, hour + 5 * 60_000L)).getSampleCount())
                .isEqualTo(2 * 60);
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 3600, hour)).getSampleCount())
                .isEqualTo(2 * 58 * 12);
    }

    /**
     * SERIES: two hosts every 5 s from T0 to {@code endMillis}; RARE: one host once a minute at :55, so that
     * each of its minutes holds one 10 s window, the last, and its fleet-wide minute opens only when that
     * window closes. Then asserts that every window of {@code resolutions} that closed by {@code endMillis}
     * was emitted once and holds exactly its samples (count and response-time histogram), and returns them.
     */
    private Map<HistogramKey, WindowedHistogram> sendSeventyMinutesAndReadWhatCloses(long endMillis, int... resolutions) {
        SeriesKey rare = new SeriesKey("cache", "tcp", "tcp");
        Random random = new Random(11);
        Map<HistogramKey, List<Long>> expected = new HashMap<>(); // every closed window's response times
        for (long t = T0_MILLIS; t < endMillis; t += 5_000) {
            for (String host : List.of("host-0", "host-1")) {
                long responseNanos = 1_000_000L + random.nextInt(50_000_000);
                send(sample(host, t, responseNanos, responseNanos, Outcome.OK));
                expect(expected, resolutions, SERIES, host, t, responseNanos);
            }
            if (Math.floorMod(t, 60_000L) == 55_000) {
                long responseNanos = 1_000_000L + random.nextInt(50_000_000);
                LatencySample once = LatencySample.newBuilder(sample("host-r", t, responseNanos, responseNanos, Outcome.OK))
                        .setTarget(rare.target()).build();
                samples.pipeInput(rare.encode(), Topics.sampleSerde().encode(once));
                expect(expected, resolutions, rare, "host-r", t, responseNanos);
            }
        }
        send(sample("host-0", endMillis + 30_000, 1_000_000L, 1_000_000L, Outcome.OK)); // closes up to endMillis

        Map<HistogramKey, Integer> emittedTimes = new HashMap<>();
        Map<HistogramKey, WindowedHistogram> emitted = new HashMap<>();
        histogramTopics.values().forEach(topic -> topic.readRecordsToList().forEach(record -> {
            HistogramKey key = HistogramKey.parse(record.key());
            emittedTimes.merge(key, 1, Integer::sum);
            emitted.put(key, Topics.histogramSerde().decode(record.value()));
        }));
        assertThat(emittedTimes).as("every window is emitted once").allSatisfy((key, times) -> assertThat(times).isOne());
        for (Map.Entry<HistogramKey, List<Long>> window : expected.entrySet()) {
            HistogramKey key = window.getKey();
            if (key.windowStartMillis() + key.resolutionSeconds() * 1000L > endMillis) {
                continue; // still open
            }
            WindowedHistogram record = emitted.get(key);
            assertThat(record).as("window %s", key.encode()).isNotNull();
            assertThat(record.getSampleCount()).as("samples in %s", key.encode()).isEqualTo(window.getValue().size());
            Histogram exact = LatencyHistograms.newHistogram();
            window.getValue().forEach(nanos -> LatencyHistograms.record(exact, nanos));
            assertThat(LatencyHistograms.decode(record.getResponseTimeHistogram())).as("histogram of %s", key.encode())
                    .isEqualTo(exact);
        }
        return emitted;
    }

    /** Counts a sample in its windows of every resolution, its host's and the fleet's. */
    private static void expect(Map<HistogramKey, List<Long>> expected, int[] resolutions, SeriesKey series, String host,
                               long scheduledMillis, long responseNanos) {
        for (int seconds : resolutions) {
            long start = scheduledMillis - Math.floorMod(scheduledMillis, seconds * 1000L);
            for (String owner : List.of(host, HistogramKey.FLEET)) {
                expected.computeIfAbsent(new HistogramKey(series, owner, seconds, start), k -> new ArrayList<>())
                        .add(responseNanos);
            }
        }
    }

    @Test
    void each_resolution_s_windows_go_to_the_topic_of_that_resolution() {
        for (int i = 0; i < 120; i++) {
            send(sample("host-a", T0_MILLIS + i * 1_000L, 2_000_000L, 2_000_000L, Outcome.OK)); // 2 minutes at 1/s
        }
        send(sample("host-a", T0_MILLIS + 2 * 3_600_000L, 1_000_000L, 1_000_000L, Outcome.OK)); // closes the hour

        Map<Integer, List<HistogramKey>> keysByTopicResolution = new TreeMap<>();
        histogramTopics.forEach((seconds, topic) -> keysByTopicResolution.put(seconds,
                topic.readRecordsToList().stream().map(r -> HistogramKey.parse(r.key())).toList()));

        // host-a and fleet-wide: 12 base windows, the minutes 14:02 and 14:03, the ten minutes 14:00, the hour 14:00
        assertThat(keysByTopicResolution.get(10)).hasSize(24).allMatch(k -> k.resolutionSeconds() == 10);
        assertThat(keysByTopicResolution.get(60)).hasSize(4).allMatch(k -> k.resolutionSeconds() == 60);
        assertThat(keysByTopicResolution.get(600)).hasSize(2).allMatch(k -> k.resolutionSeconds() == 600)
                .extracting(HistogramKey::windowStartMillis).containsOnly(T0_MILLIS - 120_000L);
        assertThat(keysByTopicResolution.get(3_600)).hasSize(2).allMatch(k -> k.resolutionSeconds() == 3_600)
                .extracting(HistogramKey::windowStartMillis).containsOnly(T0_MILLIS - 120_000L);
        assertThat(metrics.windowsEmitted()).isEqualTo(32);
    }

    @Test
    void an_aggregator_with_other_topic_names_reads_and_writes_only_those() {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        AggregatorConfig whatIf = new AggregatorConfig(defaults.kafka(), defaults.streams(),
                new AggregatorConfig.Window(Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(30)),
                new AggregatorConfig.TopicsSetup(6, (short) 1, "whatif.samples", "whatif.histograms", "whatif.dead-letter"),
                defaults.maxLatency()).validated();
        var props = Aggregator.streamsProperties(whatIf);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.resolve("what-if").toString());
        try (TopologyTestDriver whatIfDriver = new TopologyTestDriver(LatencyTopology.build(whatIf), props,
                Instant.ofEpochMilli(T0_MILLIS))) {
            TestInputTopic<String, byte[]> input = whatIfDriver.createInputTopic("whatif.samples", new StringSerializer(),
                    new ByteArraySerializer());
            for (LatencySample sample : List.of(sample("host-a", T0_MILLIS, 1_000_000L, 1_000_000L, Outcome.OK),
                    sample("host-a", T0_MILLIS + 20_000, 1_000_000L, 1_000_000L, Outcome.OK))) {
                input.pipeInput(SeriesKey.of(sample).encode(), Topics.sampleSerde().encode(sample));
            }
            input.pipeInput(SERIES.encode(), new byte[] {1, 2, 3});

            assertThat(whatIfDriver.createOutputTopic("whatif.histograms.10s", new StringDeserializer(),
                    new ByteArrayDeserializer()).readKeyValuesToList()).extracting(kv -> HistogramKey.parse(kv.key))
                    .containsExactly(new HistogramKey(SERIES, "host-a", 10, T0_MILLIS),
                            new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS));
            assertThat(whatIfDriver.createOutputTopic("whatif.dead-letter", new StringDeserializer(),
                    new ByteArrayDeserializer()).getQueueSize()).isEqualTo(1);
            assertThat(whatIfDriver.producedTopicNames()).doesNotContain(Topics.histograms(10), Topics.DEAD_LETTERS);
        }
    }

    @Test
    void late_sample_within_grace_lands_in_its_window_and_a_later_one_is_dead_lettered() {
        send(sample("host-a", T0_MILLIS + 1_000, 5_000_000L, 5_000_000L, Outcome.OK));
        send(sample("host-a", T0_MILLIS + 11_000, 5_000_000L, 5_000_000L, Outcome.OK));
        // 1 s after the first window's end: within the 2 s grace
        send(sample("host-b", T0_MILLIS + 9_000, 7_000_000L, 7_000_000L, Outcome.OK));
        send(sample("host-a", T0_MILLIS + 12_500, 5_000_000L, 5_000_000L, Outcome.OK)); // closes window 0
        send(sample("host-b", T0_MILLIS + 9_500, 7_000_000L, 7_000_000L, Outcome.OK)); // too late

        Map<HistogramKey, WindowedHistogram> emitted = readHistograms();
        assertThat(emitted.get(new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS)).getSampleCount()).isEqualTo(2);
        assertThat(emitted.get(new HistogramKey(SERIES, "host-b", 10, T0_MILLIS)).getSampleCount()).isEqualTo(1);
        List<TestRecord<String, byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).hasSize(1);
        assertThat(header(dead.get(0), WindowProcessor.REASON_HEADER)).isEqualTo("late");
        assertThat(metrics.deadLetters(DeadLetterReason.LATE)).isEqualTo(1);
    }

    @Test
    void bad_records_go_to_the_dead_letter_topic_with_their_reason_and_good_ones_still_count() {
        samples.pipeInput(SERIES.encode(), "not avro".getBytes(StandardCharsets.UTF_8));
        send(sample("host-a", T0_MILLIS + 1_000, -5L, 1_000L, Outcome.OK));
        LatencySample good = sample("host-a", T0_MILLIS + 2_000, 3_000_000L, 3_000_000L, Outcome.OK);
        samples.pipeInput("other|tcp|tcp", Topics.sampleSerde().encode(good));
        send(good);
        send(sample("host-a", T0_MILLIS + 3_000, 2_000_000_000L, 2_000_000_000L, Outcome.TIMEOUT));
        send(sample("host-a", T0_MILLIS + 20_000, 1_000_000L, 1_000_000L, Outcome.OK));

        List<TestRecord<String, byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).extracting(r -> header(r, WindowProcessor.REASON_HEADER))
                .containsExactly("undecodable", "invalid", "key-mismatch");
        assertThat(header(dead.get(1), WindowProcessor.DETAIL_HEADER))
                .isEqualTo("serviceTimeNanos must be in [0, 3600000000000], got -5");
        assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("not avro");

        WindowedHistogram fleet = readHistograms().get(new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS));
        assertThat(fleet.getSampleCount()).isEqualTo(2);
        assertThat(fleet.getOutcomeCounts()).containsOnly(Map.entry("OK", 1L), Map.entry("TIMEOUT", 1L));
        assertThat(LatencyHistograms.decode(fleet.getResponseTimeHistogram()).getTotalCount())
                .as("only OK samples enter the latency histograms").isEqualTo(1);
    }

    @Test
    void windows_close_on_the_wall_clock_once_the_partition_is_idle() {
        send(sample("host-a", T0_MILLIS + 1_000, 4_000_000L, 4_000_000L, Outcome.OK));
        driver.advanceWallClockTime(Duration.ofSeconds(20));
        assertThat(histogramTopics.get(10).isEmpty()).as("idle for 20 s of the 30 s idleClose").isTrue();

        driver.advanceWallClockTime(Duration.ofSeconds(11));

        Map<HistogramKey, WindowedHistogram> emitted = readHistograms();
        assertThat(emitted).containsOnlyKeys(new HistogramKey(SERIES, "host-a", 10, T0_MILLIS),
                new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS));
    }

    @Test
    void samples_written_with_the_previous_schema_version_are_counted_like_todays() throws Exception {
        long v1Fingerprint = SchemaNormalization.parsingFingerprint64(GoldenSampleFiles.schema());
        assertThat(v1Fingerprint).isNotEqualTo(SchemaNormalization.parsingFingerprint64(LatencySample.getClassSchema()));
        for (int i = 0; i < GoldenSampleFiles.FILES; i++) {
            byte[] golden = GoldenSampleFiles.read(i);
            assertThat(ByteBuffer.wrap(golden, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong())
                    .as("golden sample %d is written with v1", i).isEqualTo(v1Fingerprint);
            samples.pipeInput(GoldenSampleFiles.SERIES_KEY, golden);
        }
        driver.advanceWallClockTime(Duration.ofSeconds(31)); // idle: the window closes on the wall clock

        Map<HistogramKey, WindowedHistogram> emitted = readHistograms();
        SeriesKey golden = new SeriesKey("golden-db", "tcp", "tcp");
        long start = GoldenSampleFiles.WINDOW_START_MILLIS;
        WindowedHistogram fleet = emitted.get(new HistogramKey(golden, HistogramKey.FLEET, 10, start));
        assertThat(fleet.getSampleCount()).isEqualTo(10);
        assertThat(fleet.getOutcomeCounts()).containsOnly(Map.entry("OK", 8L), Map.entry("TIMEOUT", 1L),
                Map.entry("REFUSED", 1L));
        assertThat(LatencyHistograms.decode(fleet.getResponseTimeHistogram()).getTotalCount()).isEqualTo(8);
        assertThat(fleet.getMinResponseTimeNanos()).isEqualTo(1_000_000L);
        assertThat(fleet.getMaxResponseTimeNanos()).isEqualTo(13_000_000L);
        assertThat(LatencyHistograms.decode(fleet.getPhaseHistograms().get("connect")).getTotalCount()).isEqualTo(1);
        assertThat(fleet.getLabels()).isEqualTo(Map.of("region", "eu-west-1"));
        WindowedHistogram hostA = emitted.get(new HistogramKey(golden, "old-agent-a", 10, start));
        assertThat(hostA.getSampleCount()).isEqualTo(6);
        assertThat(hostA.getLabels()).isEqualTo(Map.of("region", "eu-west-1", "az", "eu-west-1a"));
        assertThat(emitted.get(new HistogramKey(golden, "old-agent-b", 10, start)).getSampleCount()).isEqualTo(4);
        assertThat(deadLetters.isEmpty()).isTrue();
        assertThat(metrics.deadLetters(DeadLetterReason.UNDECODABLE)).isZero();
    }

    private void send(LatencySample sample) {
        samples.pipeInput(SeriesKey.of(sample).encode(), Topics.sampleSerde().encode(sample));
    }

    private LatencySample sample(String host, long scheduledMillis, long serviceNanos, long responseNanos, Outcome outcome) {
        return LatencySample.newBuilder()
                .setHost(host).setTarget(SERIES.target()).setAddress("127.0.0.1:5432")
                .setProbeType(SERIES.probeType()).setProtocol(SERIES.protocol())
                .setScheduledStartMicros(scheduledMillis * 1000L)
                .setActualStartMicros(scheduledMillis * 1000L + (responseNanos - serviceNanos) / 1000L)
                .setServiceTimeNanos(serviceNanos).setResponseTimeNanos(responseNanos)
                .setOutcome(outcome).setSequence(sequence++)
                .build();
    }

    /** The windows emitted since the last read, from every resolution's topic. */
    private Map<HistogramKey, WindowedHistogram> readHistograms() {
        return histogramTopics.values().stream().flatMap(topic -> topic.readRecordsToList().stream())
                .collect(Collectors.toMap(r -> HistogramKey.parse(r.key()), r -> Topics.histogramSerde().decode(r.value()),
                        (a, b) -> b, HashMap::new));
    }

    private static String header(TestRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    /** The value at rank ceil(p/100 × n) of the sorted values. */
    static long exactPercentile(long[] sorted, double percentile) {
        int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
        return sorted[Math.max(rank, 1) - 1];
    }

    @Test
    void exact_percentile_helper_uses_nearest_rank() {
        long[] values = {10, 20, 30, 40};
        assertThat(exactPercentile(values, 50.0)).isEqualTo(20);
        assertThat(exactPercentile(values, 99.0)).isEqualTo(40);
        assertThat(Arrays.stream(values).sum()).isEqualTo(100);
    }
}
