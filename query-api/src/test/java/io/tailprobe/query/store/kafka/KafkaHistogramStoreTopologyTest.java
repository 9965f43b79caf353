package io.tailprobe.query.store.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import io.tailprobe.query.GoldenWindowFiles;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.percentile.PercentileQuery;
import io.tailprobe.query.percentile.PercentileResult;
import io.tailprobe.query.percentile.PercentileService;
import io.tailprobe.query.percentile.SeriesRange;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.stream.StreamSupport;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The materializing topology through {@link TopologyTestDriver}: no broker, real RocksDB stores. */
class KafkaHistogramStoreTopologyTest {
    private static final long T0 = 1_795_442_400_000L;
    private static final SeriesKey DB = new SeriesKey("db", "tcp", "tcp");
    private static final SeriesKey DB_PREFIXED = new SeriesKey("db-replica", "tcp", "tcp");
    private static final List<Integer> RESOLUTIONS_SECONDS = List.of(10, 60, 3_600);

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    /** The 10 s, 1 min and 1 h histogram topics by resolution in seconds. */
    private final Map<Integer, TestInputTopic<String, WindowedHistogram>> histograms = new TreeMap<>();
    private TestInputTopic<String, byte[]> rawHistograms;
    private StoreQueries queries;

    @BeforeEach
    void startDriver() {
        QueryApiConfig config = QueryApiConfig.defaultConfig();
        config = new QueryApiConfig(config.kafka(), config.http(),
                new QueryApiConfig.Streams("query-topology-test", stateDir.toString(), "localhost:8080"),
                config.maxRange());
        Properties props = KafkaHistogramStore.streamsProperties(config.validate());
        driver = new TopologyTestDriver(KafkaHistogramStore.topology(props, RESOLUTIONS_SECONDS), props);
        // the driver runs one task: partition 0 of every topic, whichever partition a series hashes to
        Map<Integer, IntFunction<ReadOnlyKeyValueStore<String, WindowedHistogram>>> stores = new TreeMap<>();
        for (int seconds : RESOLUTIONS_SECONDS) {
            histograms.put(seconds, driver.createInputTopic(Topics.histograms(seconds), new StringSerializer(),
                    Topics.histogramSerde().serializer()));
            stores.put(seconds, partition -> driver.getKeyValueStore(KafkaHistogramStore.histogramsStore(seconds)));
        }
        rawHistograms = driver.createInputTopic(Topics.histograms(10), new StringSerializer(), new ByteArraySerializer());
        queries = new StoreQueries(stores, () -> driver.getKeyValueStore(KafkaHistogramStore.SERIES_STORE), 6);
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    /** Into the topic of the window's resolution, as the aggregator writes it. */
    private void pipe(WindowedHistogram window) {
        histograms.get(window.getResolutionSeconds()).pipeInput(HistogramKey.of(window).encode(), window);
    }

    private static WindowedHistogram window(SeriesKey series, String host, int index, long... responseNanos) {
        return TestWindows.window(series, host, T0 + index * TestWindows.RESOLUTION_MILLIS, responseNanos, 0);
    }

    /** A rollup window of {@code resolutionSeconds} starting at {@code startMillis}. */
    private static WindowedHistogram rollup(int resolutionSeconds, long startMillis, long... responseNanos) {
        return WindowedHistogram.newBuilder(TestWindows.window(DB, "*", startMillis, responseNanos, 0))
                .setResolutionSeconds(resolutionSeconds).setWindowEndMillis(startMillis + resolutionSeconds * 1_000L)
                .build();
    }

    @Test
    void streams_properties_carry_the_application_id_state_dir_server_and_kafka_passthrough() {
        QueryApiConfig config = new QueryApiConfig(
                Map.of("bootstrap.servers", "broker:9092", "security.protocol", "SASL_SSL"), null,
                new QueryApiConfig.Streams(null, "/var/lib/tp", "10.0.0.7:8080"), null);
        Properties props = KafkaHistogramStore.streamsProperties(config);
        assertThat(props).containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "tailprobe-query-api")
                .containsEntry(StreamsConfig.STATE_DIR_CONFIG, "/var/lib/tp")
                .containsEntry(StreamsConfig.APPLICATION_SERVER_CONFIG, "10.0.0.7:8080")
                .containsEntry(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9092")
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
    }

    @Test
    void windows_are_range_scanned_in_time_order_within_one_series_host_and_resolution() {
        for (int i = 5; i >= 0; i--) {
            pipe(window(DB, "*", i, 1_000_000L * (i + 1)));
            pipe(window(DB, "a", i, 1_000_000L));
            pipe(window(DB_PREFIXED, "*", i, 1_000_000L));
        }

        List<WindowedHistogram> found = queries.windows(DB, "*", 10, T0 + 10_000, T0 + 40_000);

        assertThat(found).extracting(WindowedHistogram::getWindowStartMillis)
                .containsExactly(T0 + 10_000, T0 + 20_000, T0 + 30_000);
        assertThat(found).extracting(WindowedHistogram::getHost).containsOnly("*");
        assertThat(found).extracting(WindowedHistogram::getTarget).containsOnly("db");
        assertThat(queries.windows(DB, "*", 10, T0 + 40_000, T0 + 40_000)).isEmpty();
        assertThat(queries.windows(DB, "*", 60, T0, T0 + 60_000)).isEmpty();
    }

    @Test
    void each_resolution_is_answered_from_its_own_topic_and_the_index_lists_them_all() {
        for (int i = 0; i < 6; i++) {
            pipe(window(DB, "*", i, 1_000_000L));
        }
        pipe(rollup(60, T0, 1_000_000L, 2_000_000L));
        pipe(rollup(60, T0 + 60_000, 3_000_000L));
        pipe(rollup(3_600, T0, 1_000_000L, 2_000_000L, 3_000_000L));

        assertThat(queries.windows(DB, "*", 10, T0, T0 + 3_600_000)).hasSize(6)
                .extracting(WindowedHistogram::getResolutionSeconds).containsOnly(10);
        assertThat(queries.windows(DB, "*", 60, T0, T0 + 3_600_000))
                .extracting(WindowedHistogram::getWindowStartMillis, WindowedHistogram::getSampleCount)
                .containsExactly(tuple(T0, 2L), tuple(T0 + 60_000, 1L));
        assertThat(queries.windows(DB, "*", 3_600, T0, T0 + 3_600_000))
                .extracting(WindowedHistogram::getSampleCount).containsExactly(3L);
        assertThat(queries.windows(DB, "*", 86_400, T0, T0 + 86_400_000)).as("no topic for 1 d windows").isEmpty();
        try (var tenSecondWindows = driver.getKeyValueStore(KafkaHistogramStore.histogramsStore(10)).all()) {
            assertThat(StreamSupport.stream(Spliterators.spliteratorUnknownSize(tenSecondWindows, 0), false).count())
                    .as("the 10 s store holds only the 10 s topic's windows").isEqualTo(6);
        }
        assertThat(queries.series()).containsExactly(
                new SeriesInfo("db", "tcp", "tcp", "*", 10, T0, T0 + 50_000, Map.of()),
                new SeriesInfo("db", "tcp", "tcp", "*", 60, T0, T0 + 60_000, Map.of()),
                new SeriesInfo("db", "tcp", "tcp", "*", 3_600, T0, T0, Map.of()));
    }

    @Test
    void the_tables_of_every_resolution_feed_one_series_index_in_one_sub_topology() {
        var subtopologies = KafkaHistogramStore.topology(new Properties(), RESOLUTIONS_SECONDS).describe().subtopologies();

        assertThat(subtopologies).hasSize(1);
        assertThat(subtopologies.iterator().next().nodes()).filteredOn(node -> node.name().startsWith("index-series-"))
                .extracting(node -> node.name())
                .containsExactlyInAnyOrder("index-series-10s", "index-series-1m", "index-series-1h");
    }

    @Test
    void the_series_index_holds_one_entry_per_series_host_and_resolution_with_its_span() {
        for (int i = 0; i < 4; i++) {
            pipe(window(DB, "*", i, 1_000_000L));
            pipe(window(DB, "b", i, 1_000_000L));
        }
        pipe(window(DB_PREFIXED, "*", 7, 1_000_000L));

        assertThat(queries.series()).containsExactly(
                new SeriesInfo("db", "tcp", "tcp", "*", 10, T0, T0 + 30_000, Map.of()),
                new SeriesInfo("db", "tcp", "tcp", "b", 10, T0, T0 + 30_000, Map.of()),
                new SeriesInfo("db-replica", "tcp", "tcp", "*", 10, T0 + 70_000, T0 + 70_000, Map.of()));
        long entries;
        try (var all = driver.getKeyValueStore(KafkaHistogramStore.SERIES_STORE).all()) {
            entries = StreamSupport.stream(Spliterators.spliteratorUnknownSize(all, 0), false).count();
        }
        assertThat(entries).as("index entries for 9 windows").isEqualTo(3);
    }

    @Test
    void the_series_of_one_target_are_a_prefix_scan_that_leaves_out_targets_it_begins() {
        pipe(window(DB, "*", 0, 1_000_000L));
        pipe(window(DB, "b", 1, 1_000_000L));
        pipe(window(DB_PREFIXED, "*", 2, 1_000_000L));
        pipe(window(new SeriesKey("cache", "tcp", "tcp"), "*", 3, 1_000_000L));

        assertThat(queries.series("db")).containsExactly(
                new SeriesInfo("db", "tcp", "tcp", "*", 10, T0, T0, Map.of()),
                new SeriesInfo("db", "tcp", "tcp", "b", 10, T0 + 10_000, T0 + 10_000, Map.of()));
        assertThat(queries.series("db-replica")).extracting(SeriesInfo::target).containsExactly("db-replica");
        assertThat(queries.series("d")).isEmpty();
    }

    @Test
    void the_series_index_keeps_the_labels_of_the_latest_window() {
        pipe(labelled(window(DB, "a", 1, 1_000_000L), Map.of("region", "eu-west-1", "az", "eu-west-1b")));
        pipe(labelled(window(DB, "a", 0, 1_000_000L), Map.of("region", "old")));
        pipe(labelled(window(DB, "a", 2, 1_000_000L), Map.of("region", "eu-west-1", "az", "eu-west-1c")));
        pipe(window(DB, "*", 0, 1_000_000L));

        assertThat(queries.series()).containsExactly(
                new SeriesInfo("db", "tcp", "tcp", "*", 10, T0, T0, Map.of()),
                new SeriesInfo("db", "tcp", "tcp", "a", 10, T0, T0 + 20_000,
                        Map.of("region", "eu-west-1", "az", "eu-west-1c")));
    }

    @Test
    void a_series_index_entry_written_before_labels_existed_reads_with_no_labels() {
        byte[] legacy = ByteBuffer.allocate(16).putLong(T0).putLong(T0 + 50_000).array();
        SeriesSpan span = SeriesSpan.serde().deserializer().deserialize("index", legacy);
        assertThat(span).isEqualTo(new SeriesSpan(T0, T0 + 50_000, Map.of()));

        SeriesSpan labelled = new SeriesSpan(T0, T0 + 50_000, Map.of("region", "eu-west-1", "zone", "é"));
        byte[] encoded = SeriesSpan.serde().serializer().serialize("index", labelled);
        assertThat(SeriesSpan.serde().deserializer().deserialize("index", encoded)).isEqualTo(labelled);
        assertThat(SeriesSpan.serde().serializer().serialize("index", span)).isEqualTo(legacy);
    }

    @Test
    void windows_written_with_the_previous_schema_version_are_served_in_either_histogram_encoding() throws Exception {
        long v1Fingerprint = SchemaNormalization.parsingFingerprint64(GoldenWindowFiles.schema());
        assertThat(v1Fingerprint).isNotEqualTo(SchemaNormalization.parsingFingerprint64(WindowedHistogram.getClassSchema()));
        GoldenWindowFiles.read().forEach((key, golden) -> {
            assertThat(ByteBuffer.wrap(golden, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong())
                    .as("golden window %s is written with v1", key).isEqualTo(v1Fingerprint);
            rawHistograms.pipeInput(key.encode(), golden);
        });
        SeriesKey golden = GoldenWindowFiles.SERIES;
        long start = GoldenWindowFiles.FIRST_START_MILLIS;

        List<WindowedHistogram> fleet = queries.windows(golden, "*", 10, start, start + 20_000);

        assertThat(fleet).extracting(WindowedHistogram::getWindowStartMillis, WindowedHistogram::getSampleCount)
                .containsExactly(tuple(start, 5L), tuple(start + 10_000, 2L));
        assertThat(fleet).allSatisfy(window -> assertThat(window.getLabels()).isEmpty());
        assertThat(queries.series()).extracting(SeriesInfo::host).containsExactly("*", "old-agent-a");
        InMemoryHistogramStore served = new InMemoryHistogramStore();
        served.putAll(fleet);
        PercentileResult result = new PercentileService(served).percentiles(new PercentileQuery(
                new SeriesRange(golden.target(), golden.probeType(), null, "*", start, start + 20_000, 0),
                List.of(0.5, 1.0), List.of()));
        assertThat(result.count()).isEqualTo(7);
        assertThat(result.outcomes()).containsOnly(Map.entry("OK", 6L), Map.entry("TIMEOUT", 1L));
        assertThat(result.responseTime().count()).as("compressed and V2 histograms both read").isEqualTo(6);
        assertThat(result.responseTime().quantilesMillis().get("0.5")).isCloseTo(3.0, within(0.003));
        assertThat(result.responseTime().maxMillis()).isEqualTo(11.0);
    }

    private static WindowedHistogram labelled(WindowedHistogram window, Map<String, String> labels) {
        return WindowedHistogram.newBuilder(window).setLabels(labels).build();
    }

    @Test
    void a_redelivered_window_replaces_the_stored_one_instead_of_adding_to_it() {
        pipe(window(DB, "*", 0, 1_000_000L));
        pipe(window(DB, "*", 0, 2_000_000L, 3_000_000L));

        List<WindowedHistogram> found = queries.windows(DB, "*", 10, T0, T0 + 10_000);
        assertThat(found).hasSize(1);
        assertThat(found.getFirst().getSampleCount()).isEqualTo(2);
        assertThat(found.getFirst().getMaxResponseTimeNanos()).isEqualTo(3_000_000L);
    }

    @Test
    void an_undecodable_record_and_a_tombstone_are_skipped_and_the_store_keeps_serving() {
        pipe(window(DB, "*", 0, 1_000_000L));
        rawHistograms.pipeInput(new HistogramKey(DB, "*", 10, T0 + 10_000).encode(), new byte[] {1, 2, 3});
        rawHistograms.pipeInput(new HistogramKey(DB, "*", 10, T0 + 20_000).encode(), (byte[]) null);
        pipe(window(DB, "*", 3, 1_000_000L));

        assertThat(queries.windows(DB, "*", 10, T0, T0 + 60_000)).extracting(WindowedHistogram::getWindowStartMillis)
                .containsExactly(T0, T0 + 30_000);
        assertThat(queries.series()).containsExactly(new SeriesInfo("db", "tcp", "tcp", "*", 10, T0, T0 + 30_000, Map.of()));
    }
}
