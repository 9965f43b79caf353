package io.tailprobe.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    record Http(int port) {}

    record Sample(Map<String, String> kafka, Http http, Duration grace, String name) {
        static Sample defaults() {
            return new Sample(KafkaSettings.defaults(), new Http(8080), Duration.ofSeconds(5), "x");
        }
    }

    @Test
    void layers_apply_in_order_defaults_file_environment_flags(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "http:\n  port: 9000\ngrace: 250ms\nname: from-file\n");

        Sample s = ConfigLoader.load(Sample.class, Sample.defaults(), file,
                Map.of("TAILPROBE_HTTP_PORT", "9100", "TAILPROBE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                List.of("name=from-flag", "kafka.bootstrap.servers=broker:9092"));

        assertThat(s.http().port()).isEqualTo(9100);
        assertThat(s.grace()).isEqualTo(Duration.ofMillis(250));
        assertThat(s.name()).isEqualTo("from-flag");
        assertThat(s.kafka()).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("bootstrap.servers", "broker:9092");
    }

    @Test
    void unknown_keys_and_bad_values_fail_naming_the_key(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "http:\n  prot: 9000\n");
        assertThatThrownBy(() -> ConfigLoader.load(Sample.class, Sample.defaults(), file, Map.of(), List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("unknown config key http.prot");

        assertThatThrownBy(() -> ConfigLoader.load(Sample.class, Sample.defaults(), null, Map.of(), List.of("grace=soon")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("grace")
                .hasMessageContaining("not a duration: \"soon\"");
    }

    record Target(String name, Duration interval) {}

    record WithList(List<Target> targets) {}

    @Test
    void list_elements_are_overridable_by_index(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "targets:\n  - name: a\n    interval: 1s\n  - name: b\n");
        WithList w = ConfigLoader.load(WithList.class, new WithList(List.of()), file,
                Map.of("TAILPROBE_TARGETS_1_INTERVAL", "250ms"), List.of("targets.0.interval=5s"));
        assertThat(w.targets()).containsExactly(new Target("a", Duration.ofSeconds(5)),
                new Target("b", Duration.ofMillis(250)));
        assertThatThrownBy(() -> ConfigLoader.load(WithList.class, new WithList(List.of()), file, Map.of(),
                List.of("targets.7.interval=5s")))
                .hasMessage("config key targets.7.interval: \"7\" is not an index of a list of 2 elements");
    }

    @Test
    void env_names_are_upper_snake_case_of_the_key_path() {
        assertThat(ConfigLoader.envName("http.port")).isEqualTo("TAILPROBE_HTTP_PORT");
        assertThat(ConfigLoader.envName("window.graceMillis")).isEqualTo("TAILPROBE_WINDOW_GRACE_MILLIS");
    }

    @Test
    void environment_keys_list_every_variable_the_loader_reads_and_nothing_else(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "targets:\n  - name: a\n");
        assertThat(ConfigLoader.environmentKeys(WithList.class, new WithList(List.of()), file))
                .containsExactlyInAnyOrderEntriesOf(Map.of("TAILPROBE_TARGETS_0_NAME", "targets.0.name",
                        "TAILPROBE_TARGETS_0_INTERVAL", "targets.0.interval"));
        Map<String, String> keys = ConfigLoader.environmentKeys(Sample.class, Sample.defaults(), null);
        assertThat(keys).containsEntry("TAILPROBE_HTTP_PORT", "http.port").containsEntry("TAILPROBE_GRACE", "grace")
                .doesNotContainKey("TAILPROBE_KAFKA_BOOTSTRAP_SERVERS");
        // a misspelled variable is ignored by load, which is why deployments are checked against this list
        Sample loaded = ConfigLoader.load(Sample.class, Sample.defaults(), null, Map.of("TAILPROBE_HTTP_PROT", "1"), List.of());
        assertThat(loaded).isEqualTo(Sample.defaults());
        assertThat(keys).doesNotContainKey("TAILPROBE_HTTP_PROT");
    }
}
