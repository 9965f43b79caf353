package io.tailprobe.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueryApiConfigTest {
    private static QueryApiConfig load(Path file, Map<String, String> env, List<String> sets) {
        return ConfigLoader.load(QueryApiConfig.class, QueryApiConfig.defaultConfig(), file, env, sets).validate();
    }

    @Test
    void defaults_serve_port_8080_from_a_local_broker_with_a_31_day_range() {
        QueryApiConfig config = load(null, Map.of(), List.of());

        assertThat(config.http().port()).isEqualTo(8080);
        assertThat(config.kafka()).containsEntry("bootstrap.servers", "localhost:9092");
        assertThat(config.streams().applicationId()).isEqualTo("tailprobe-query-api");
        assertThat(config.streams().stateDir()).startsWith(System.getProperty("java.io.tmpdir"));
        assertThat(config.streams().applicationServer()).isEmpty();
        assertThat(config.streams().routed()).isFalse();
        assertThat(config.streams().peerTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.maxRange()).isEqualTo(Duration.ofDays(31));
        assertThat(config.maxSteps()).isEqualTo(1_000);
        assertThat(config.maxSeries()).isEqualTo(10_000);
        assertThat(config.http()).isEqualTo(new QueryApiConfig.Http(8080, "", ""));
        assertThat(config.http().corsOriginList()).isEmpty();
        assertThat(config.samples()).isEqualTo(new QueryApiConfig.Samples(Duration.ofHours(1), 10_000,
                Duration.ofMinutes(1), Duration.ofSeconds(30)));
        assertThat(config.metrics().quantiles()).containsExactly(0.5, 0.9, 0.99, 0.999);
        assertThat(config.metrics().buckets()).hasSize(11).startsWith(Duration.ofMillis(5)).endsWith(Duration.ofSeconds(10));
        assertThat(config.metrics().perHost()).isFalse();
    }

    @Test
    void file_environment_and_flags_override_every_key(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("query-api.yaml");
        Files.writeString(file, "http:\n  port: 9000\nstreams:\n  stateDir: /data/qa\nmaxRange: 7d\nmaxSteps: 500\n"
                + "samples:\n  maxLimit: 500\nmetrics:\n  buckets: [50ms, 200ms, 1s]\n");

        QueryApiConfig config = load(file,
                Map.of("TAILPROBE_STREAMS_APPLICATION_ID", "qa-2", "TAILPROBE_KAFKA_SECURITY_PROTOCOL", "SSL",
                        "TAILPROBE_SAMPLES_MAX_SEND_DELAY", "5m"),
                List.of("streams.applicationServer=qa-2.internal:9000", "kafka.bootstrap.servers=b1:9092",
                        "metrics.perHost=true", "metrics.buckets.1=250ms", "http.bearerToken=t0k3n",
                        "http.corsOrigins=https://grafana.example.com,https://ops.example.com:8443",
                        "streams.peerTimeout=2s"));

        assertThat(config.http().port()).isEqualTo(9000);
        assertThat(config.http().bearerToken()).isEqualTo("t0k3n");
        assertThat(config.http().corsOriginList())
                .containsExactly("https://grafana.example.com", "https://ops.example.com:8443");
        assertThat(config.streams()).isEqualTo(new QueryApiConfig.Streams("qa-2", "/data/qa", "qa-2.internal:9000",
                Duration.ofSeconds(2)));
        assertThat(config.streams().routed()).isTrue();
        assertThat(config.maxRange()).isEqualTo(Duration.ofDays(7));
        assertThat(config.maxSteps()).isEqualTo(500);
        assertThat(config.samples()).isEqualTo(new QueryApiConfig.Samples(Duration.ofHours(1), 500,
                Duration.ofMinutes(5), Duration.ofSeconds(30)));
        assertThat(config.metrics().buckets()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(250),
                Duration.ofSeconds(1));
        assertThat(config.metrics().perHost()).isTrue();
        assertThat(config.kafka()).containsEntry("security.protocol", "SSL").containsEntry("bootstrap.servers", "b1:9092");
    }

    @Test
    void bad_values_fail_at_start_up_naming_the_key_and_the_rule() {
        assertThatThrownBy(() -> load(null, Map.of(), List.of("http.port=70000")))
                .isInstanceOf(ConfigException.class).hasMessage("http.port must be in [0, 65535], got 70000");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("maxRange=0s")))
                .isInstanceOf(ConfigException.class).hasMessage("maxRange must be > 0, got 0s");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("maxSteps=0")))
                .isInstanceOf(ConfigException.class).hasMessage("maxSteps must be >= 1, got 0");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("samples.maxLimit=0")))
                .isInstanceOf(ConfigException.class).hasMessage("samples.maxLimit must be >= 1, got 0");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("samples.maxReadTime=0s")))
                .isInstanceOf(ConfigException.class).hasMessage("samples.maxReadTime must be > 0, got 0s");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("http.corsOrigins=grafana.example.com")))
                .isInstanceOf(ConfigException.class).hasMessage("http.corsOrigins must be * or origins such as"
                        + " https://grafana.example.com, comma-separated, got \"grafana.example.com\"");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("http.bearerToken=two words")))
                .isInstanceOf(ConfigException.class).hasMessage("http.bearerToken must not contain whitespace");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("maxSeries=0")))
                .isInstanceOf(ConfigException.class).hasMessage("maxSeries must be >= 1, got 0");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("metrics.buckets.3=20ms")))
                .isInstanceOf(ConfigException.class).hasMessage("metrics.buckets must be ascending, got 20ms after 25ms");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("metrics.quantiles.0=1.5")))
                .isInstanceOf(ConfigException.class).hasMessage("metrics.quantiles[0] must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("streams.applicationServer=no-port")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("streams.applicationServer must be host:port");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("streams.applicationServer=qa-1:8080", "http.port=0")))
                .isInstanceOf(ConfigException.class).hasMessage("http.port must be a fixed port when"
                        + " streams.applicationServer is set (other instances reach this one there), got 0");
        assertThatThrownBy(() -> load(null, Map.of(), List.of("streams.peerTimeout=0s")))
                .isInstanceOf(ConfigException.class).hasMessage("streams.peerTimeout must be > 0, got 0s");
    }
}
