package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.common.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {
    private static final String YAML = """
            agent:
              id: web-1
              labels: {region: eu-west-1, az: eu-west-1a}
            http:
              port: 9200
            kafka:
              bootstrap.servers: broker:9092
            defaults:
              interval: 5s
              timeout: 1s
            spool:
              directory: /var/lib/tailprobe/spool
              maxBytes: 67108864
              maxAge: 6h
            targets:
              - name: db
                type: tcp
                address: db.internal:5432
                labels: {region: eu-central-1, tier: data}
              - name: echo
                type: tcp
                address: 127.0.0.1:7001
                interval: 250ms
                timeout: 100ms
                send: "ping\\n"
                expect: "^pong"
            """;

    @Test
    void the_defaults_run_on_a_laptop() {
        AgentConfig config = AgentConfig.defaultConfig();

        assertThat(config.agent().id()).isEqualTo(AgentConfig.hostName()).isNotBlank();
        assertThat(config.http().port()).isEqualTo(9101);
        assertThat(config.kafka()).containsEntry("bootstrap.servers", "localhost:9092");
        assertThat(config.defaults().interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.defaults().timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.spool().maxBytes()).isEqualTo(256L * 1024 * 1024);
        assertThat(config.spool().maxAge()).isEqualTo(Duration.ofHours(24));
        assertThat(config.spoolDirectory())
                .isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "tailprobe-spool", AgentConfig.hostName()));
        assertThat(config.plan()).singleElement().satisfies(t -> {
            assertThat(t.name()).isEqualTo("demo-tcp");
            assertThat(t.probe().address()).isEqualTo("127.0.0.1:7001");
        });
    }

    @Test
    void a_yaml_file_loads_and_targets_fall_back_to_the_defaults(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, YAML);

        AgentConfig config = AgentConfig.load(file, Map.of(), List.of());
        List<PlannedTarget> targets = config.plan();

        assertThat(config.agent().id()).isEqualTo("web-1");
        assertThat(config.http().port()).isEqualTo(9200);
        assertThat(config.kafka()).containsEntry("bootstrap.servers", "broker:9092");
        assertThat(config.spool()).isEqualTo(
                new AgentConfig.Spool(Path.of("/var/lib/tailprobe/spool"), 64L * 1024 * 1024, Duration.ofHours(6)));
        assertThat(targets).extracting(PlannedTarget::name, PlannedTarget::interval, PlannedTarget::timeout)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("db", Duration.ofSeconds(5), Duration.ofSeconds(1)),
                        org.assertj.core.groups.Tuple.tuple("echo", Duration.ofMillis(250), Duration.ofMillis(100)));
        assertThat(targets.get(0).labels())
                .as("a target's labels win over the agent's")
                .containsExactlyInAnyOrderEntriesOf(Map.of("region", "eu-central-1", "az", "eu-west-1a", "tier", "data"));
        assertThat(config.targets().get(1).send()).isEqualTo("ping\n");
        assertThat(targets.get(1).probe().toString()).contains("expect /^pong/");
    }

    @Test
    void environment_and_flags_override_the_file(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, YAML);

        AgentConfig config = AgentConfig.load(file,
                Map.of("TAILPROBE_HTTP_PORT", "0",
                        "TAILPROBE_TARGETS_1_INTERVAL", "2s",
                        "TAILPROBE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                List.of("agent.id=web-2", "targets.1.address=127.0.0.1:7002", "kafka.bootstrap.servers=b2:9092"));

        assertThat(config.http().port()).isZero();
        assertThat(config.targets().get(1).interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.agent().id()).isEqualTo("web-2");
        assertThat(config.targets().get(1).address()).isEqualTo("127.0.0.1:7002");
        assertThat(config.kafka()).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("bootstrap.servers", "b2:9092");
    }

    @Test
    void the_default_spool_directory_follows_the_agent_id_unless_set() {
        AgentConfig config = AgentConfig.load(null, Map.of("TAILPROBE_AGENT_ID", "web-9"), List.of());
        AgentConfig set = AgentConfig.load(null, Map.of("TAILPROBE_SPOOL_DIRECTORY", "/srv/spool"), List.of());

        assertThat(config.spoolDirectory())
                .isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "tailprobe-spool", "web-9"));
        assertThat(set.spoolDirectory()).isEqualTo(Path.of("/srv/spool"));
    }

    @Test
    void the_default_target_is_configurable_from_the_environment_alone() {
        AgentConfig config = AgentConfig.load(null, Map.of("TAILPROBE_TARGETS_0_ADDRESS", "demo:7001"), List.of());

        assertThat(config.plan()).singleElement().satisfies(t -> assertThat(t.probe().address()).isEqualTo("demo:7001"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '#', quoteCharacter = '`', value = {
        "targets.0.interval=-5s   # targets[0].interval must be > 0, got -5s",
        "targets.0.timeout=0s     # targets[0].timeout must be > 0, got 0s",
        "defaults.interval=0ms    # defaults.interval must be > 0, got 0s",
        "defaults.timeout=-1s     # defaults.timeout must be > 0, got -1s",
        "targets.0.type=smtp      # targets[0].type must be one of [dns, http, icmp, tcp, udp], got \"smtp\"",
        "targets.0.address=db     # targets[0].address must be host:port with a port from 1 to 65535 (IPv6 as [addr]:port), got \"db\"",
        "targets.0.address=db:0   # targets[0].address must be host:port with a port from 1 to 65535 (IPv6 as [addr]:port), got \"db:0\"",
        "targets.0.address=db:x   # targets[0].address must be host:port with a port from 1 to 65535 (IPv6 as [addr]:port), got \"db:x\"",
        "targets.0.name=a|b       # targets[0].name must not contain '|', got \"a|b\"",
        "targets.0.expect=(       # targets[0].expect is not a valid regular expression: Unclosed group in \"(\"",
        "http.port=70000          # http.port must be between 0 and 65535, got 70000",
        "agent.id=               # agent.id must not be empty",
        "spool.maxBytes=1000     # spool.maxBytes must be at least 1048576 (1 MiB), got 1000",
        "spool.maxAge=0s         # spool.maxAge must be > 0, got 0s",
    })
    void each_rule_names_the_key_and_the_value(String set, String message) {
        AgentConfig config = AgentConfig.load(null, Map.of(), List.of(set.strip()));

        assertThatThrownBy(config::plan).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void duplicate_target_names_point_at_the_first_use() {
        AgentConfig config = AgentConfig.defaultConfig().withTargets(List.of(
                new Target("db", "tcp", "db:5432"), new Target("web", "tcp", "web:80"), new Target("db", "tcp", "db:6432")));

        assertThatThrownBy(config::plan).isInstanceOf(ConfigException.class)
                .hasMessage("targets[2].name \"db\" is already used by targets[0]");
    }

    @Test
    void every_broken_rule_is_reported_at_once() {
        AgentConfig config = AgentConfig.defaultConfig().withTargets(List.of(
                new Target("a", "smtp", "x:1"), new Target(null, "tcp", "nohost")));

        assertThatThrownBy(config::plan).isInstanceOf(ConfigException.class)
                .hasMessageContaining("targets[0].type must be one of " + io.tailprobe.agent.probe.Probes.types() + ", got \"smtp\"")
                .hasMessageContaining("; targets[1].name is required")
                .hasMessageContaining("; targets[1].address must be host:port");
    }

    @Test
    void ipv6_addresses_take_brackets() {
        AgentConfig config = AgentConfig.defaultConfig().withTargets(List.of(new Target("v6", "tcp", "[::1]:7001")));

        assertThat(config.plan().getFirst().probe().address()).isEqualTo("[::1]:7001");
    }

    @Test
    void unknown_keys_fail_while_loading() {
        assertThatThrownBy(() -> AgentConfig.load(null, Map.of(), List.of("targets.0.intervall=1s")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("unknown config key targets[0].intervall");
    }
}
