package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AggregatorConfigTest {
    private static AggregatorConfig load(String... sets) {
        return ConfigLoader.load(AggregatorConfig.class, AggregatorConfig.defaults(), null, Map.of(), List.of(sets))
                .validated();
    }

    @Test
    void defaults_are_ten_second_windows_rolled_up_to_1_min_10_min_and_1_h_exactly_once() {
        AggregatorConfig config = load();
        assertThat(config.window().size()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.window().rollups())
                .containsExactly(Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofHours(1));
        assertThat(config.streams().processingGuarantee()).isEqualTo("exactly_once_v2");
    }

    @Test
    void windows_are_written_lz4_compressed_unless_the_kafka_settings_choose_a_compression() {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        Map<String, String> unprefixed = new HashMap<>(defaults.kafka());
        unprefixed.put("compression.type", "zstd");
        Map<String, String> prefixed = new HashMap<>(defaults.kafka());
        prefixed.put("producer.compression.type", "none");

        var byDefault = Aggregator.streamsProperties(defaults);
        var withUnprefixed = Aggregator.streamsProperties(withKafka(defaults, unprefixed));
        var withPrefixed = Aggregator.streamsProperties(withKafka(defaults, prefixed));

        assertThat(byDefault.getProperty("producer.compression.type")).isEqualTo("lz4");
        assertThat(withUnprefixed.getProperty("producer.compression.type")).isNull();
        assertThat(withUnprefixed.getProperty("compression.type")).isEqualTo("zstd");
        assertThat(withPrefixed.getProperty("producer.compression.type")).isEqualTo("none");
    }

    private static AggregatorConfig withKafka(AggregatorConfig config, Map<String, String> kafka) {
        return new AggregatorConfig(kafka, config.streams(), config.window(), config.topics(), config.maxLatency());
    }

    @Test
    void default_retention_is_7_days_for_10s_windows_90_days_for_1m_365_for_10m_and_730_for_1h() {
        assertThat(load().retentionByResolutionSeconds()).containsExactly(Map.entry(10, Duration.ofDays(7)),
                Map.entry(60, Duration.ofDays(90)), Map.entry(600, Duration.ofDays(365)), Map.entry(3_600, Duration.ofDays(730)));
    }

    @Test
    void retention_is_set_per_resolution_in_the_file_the_environment_and_flags(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("aggregator.yaml");
        Files.writeString(file, """
                window:
                  rollups: [5m, 1d]
                  retention: {10s: 2d, 5m: 30d, 1d: 3650d}
                """);

        AggregatorConfig config = ConfigLoader.load(AggregatorConfig.class, AggregatorConfig.defaults(), file,
                Map.of("TAILPROBE_WINDOW_RETENTION_10S", "3d"), List.of("window.retention.5m=60d")).validated();

        assertThat(config.retentionByResolutionSeconds()).as("the default 1m, 10m and 1h entries name no resolution now")
                .containsExactly(Map.entry(10, Duration.ofDays(3)), Map.entry(300, Duration.ofDays(60)),
                        Map.entry(86_400, Duration.ofDays(3650)));
    }

    @Test
    void every_resolution_needs_a_positive_retention_and_the_base_one_outlives_the_longest_rollup() {
        assertThatThrownBy(() -> load("window.rollups.2=1d"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("window.retention.1d must be set: every resolution (window.size, window.rollups) needs a retention");
        assertThatThrownBy(() -> load("window.retention.10s=1h"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("window.retention.10s must be at least the longest rollup plus window.grace (1h + 5s), got 1h");
        assertThat(load("window.retention.10s=3605s").retentionByResolutionSeconds()).containsEntry(10, Duration.ofSeconds(3_605));
        assertThatThrownBy(() -> load("window.retention.1h=0s")).hasMessage("window.retention.1h must be > 0, got 0s");
        assertThatThrownBy(() -> load("window.retention.60s=30d"))
                .hasMessage("window.retention.1m and window.retention.60s both set the retention of the 1m windows; keep one");
        assertThatThrownBy(() -> load("window.retention.often=1d"))
                .hasMessage("window.retention keys must be resolutions such as 10s or 1h, got \"often\"");
    }

    @Test
    void each_rule_fails_at_start_up_naming_the_key() {
        assertThatThrownBy(() -> load("window.rollups.0=45s"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("window.rollups[0] must be a larger multiple of 10s, got 45s");
        assertThatThrownBy(() -> load("window.size=1500ms"))
                .hasMessage("window.size must be whole seconds, got 1500ms");
        assertThatThrownBy(() -> load("streams.processingGuarantee=exactly_once"))
                .hasMessage("streams.processingGuarantee must be exactly_once_v2 or at_least_once, got exactly_once");
        assertThatThrownBy(() -> load("window.grace=-1s")).hasMessage("window.grace must be >= 0, got -1s");
    }

    @Test
    void topic_names_default_to_latency_samples_and_can_be_set_for_a_what_if_aggregator() {
        AggregatorConfig defaults = load();
        assertThat(defaults.topics().samples()).isEqualTo("latency.samples");
        assertThat(defaults.topics().histogramsTopic(60)).isEqualTo("latency.histograms.1m");
        assertThat(defaults.topics().deadLetters()).isEqualTo("latency.samples.dead-letter");

        AggregatorConfig whatIf = load("topics.samples=whatif.samples", "topics.histograms=whatif.histograms",
                "topics.deadLetters=whatif.dead-letter");
        assertThat(whatIf.topics().samples()).isEqualTo("whatif.samples");
        assertThat(whatIf.topics().histogramsTopic(10)).isEqualTo("whatif.histograms.10s");
        assertThat(whatIf.topics().deadLetters()).isEqualTo("whatif.dead-letter");
    }

    @Test
    void a_topic_name_kafka_would_refuse_or_names_that_collide_fail_naming_the_key() {
        assertThatThrownBy(() -> load("topics.samples=my samples"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("topics.samples must be a Kafka topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_' and '-'), "
                        + "got \"my samples\"");
        assertThatThrownBy(() -> load("topics.deadLetters=")).hasMessageStartingWith("topics.deadLetters must be a Kafka topic name");
        assertThatThrownBy(() -> load("topics.histograms=a/b")).hasMessageStartingWith("topics.histograms must be a topic name stem");
        assertThatThrownBy(() -> load("topics.deadLetters=latency.samples"))
                .hasMessage("topics.samples and topics.deadLetters must differ, both are \"latency.samples\"");
        assertThatThrownBy(() -> load("topics.histograms=latency"))
                .hasMessage("topics.histograms \"latency\" must not be a stem of the input topic \"latency.samples\" "
                        + "(its windows would share names with it)");
    }
}
