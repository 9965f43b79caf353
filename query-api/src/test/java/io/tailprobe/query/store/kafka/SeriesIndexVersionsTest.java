package io.tailprobe.query.store.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.store.StoreVersions;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index processor changes a series' version on every window update it sees, tombstones included. */
class SeriesIndexVersionsTest {
    private static final long T0 = 1_795_442_400_000L;
    private static final long DAY = 86_400_000L;
    private static final SeriesKey DB = new SeriesKey("db", "tcp", "tcp");
    private static final SeriesKey WEB = new SeriesKey("web", "tcp", "tcp");

    @TempDir
    Path stateDir;

    private final StoreVersions versions = new StoreVersions();
    private TopologyTestDriver driver;
    private TestInputTopic<String, WindowedHistogram> tenSeconds;

    @BeforeEach
    void startDriver() {
        QueryApiConfig config = QueryApiConfig.defaultConfig();
        config = new QueryApiConfig(config.kafka(), config.http(),
                new QueryApiConfig.Streams("query-versions-test", stateDir.toString(), ""), config.maxRange());
        Properties props = KafkaHistogramStore.streamsProperties(config.validate());
        driver = new TopologyTestDriver(KafkaHistogramStore.topology(props, List.of(10, 60), versions), props);
        tenSeconds = driver.createInputTopic(Topics.histograms(10), new StringSerializer(),
                Topics.histogramSerde().serializer());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    private void pipe(SeriesKey series, int index) {
        WindowedHistogram window = TestWindows.window(series, HistogramKey.FLEET, T0 + index * 10_000L,
                new long[] {1_000_000L + index}, 0);
        tenSeconds.pipeInput(HistogramKey.of(window).encode(), window);
    }

    @Test
    void a_window_a_re_emitted_window_and_a_tombstone_each_change_their_series_version_only() {
        pipe(DB, 0);
        pipe(WEB, 0);
        long db = versions.version(DB, HistogramKey.FLEET, 10, T0, T0 + DAY);
        long web = versions.version(WEB, HistogramKey.FLEET, 10, T0, T0 + DAY);
        long dbMinutes = versions.version(DB, HistogramKey.FLEET, 60, T0, T0 + DAY);
        long series = versions.seriesVersion();

        pipe(DB, 1);
        assertThat(versions.version(DB, HistogramKey.FLEET, 10, T0, T0 + DAY)).isGreaterThan(db);
        db = versions.version(DB, HistogramKey.FLEET, 10, T0, T0 + DAY);
        pipe(DB, 1); // the same window emitted again
        assertThat(versions.version(DB, HistogramKey.FLEET, 10, T0, T0 + DAY)).isGreaterThan(db);
        db = versions.version(DB, HistogramKey.FLEET, 10, T0, T0 + DAY);
        tenSeconds.pipeInput(new HistogramKey(DB, HistogramKey.FLEET, 10, T0).encode(), null);
        assertThat(versions.version(DB, HistogramKey.FLEET, 10, T0, T0 + DAY)).isGreaterThan(db);

        assertThat(versions.version(WEB, HistogramKey.FLEET, 10, T0, T0 + DAY)).isEqualTo(web);
        assertThat(versions.version(DB, HistogramKey.FLEET, 60, T0, T0 + DAY)).isEqualTo(dbMinutes);
        assertThat(versions.seriesVersion()).as("no series was added").isEqualTo(series);
        pipe(new SeriesKey("cache", "tcp", "tcp"), 0);
        assertThat(versions.seriesVersion()).isGreaterThan(series);
    }
}
