package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.agent.schedule.Pacer;
import io.tailprobe.agent.sink.SampleSink;
import io.tailprobe.common.ConfigException;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ProbeAgentTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final List<LatencySample> samples = new CopyOnWriteArrayList<>();
    private final AtomicBoolean sinkClosed = new AtomicBoolean();
    private final SampleSink memory = new SampleSink() {
        @Override
        public void send(LatencySample sample, SendCallback done) {
            samples.add(sample);
            done.onCompletion(null);
        }

        @Override
        public void close() {
            sinkClosed.set(true);
        }
    };

    private static AgentConfig config(String address) {
        return AgentConfig.defaultConfig()
                .withHttpPort(0)
                .withTargets(List.of(new Target("local-echo", "tcp", address, Duration.ofMillis(20), Duration.ofSeconds(1),
                        null, null, Map.of("region", "local"))));
    }

    @Test
    void the_agent_probes_its_targets_and_reports_on_health_and_metrics() throws Exception {
        try (TestTcpServer server = TestTcpServer.acceptOnly();
             ProbeAgent agent = ProbeAgent.start(config(server.address()), memory)) {
            // Step 1: samples arrive on schedule.
            await().atMost(Duration.ofSeconds(10)).until(() -> samples.size() >= 5);

            List<LatencySample> first = List.copyOf(samples).subList(0, 5);
            assertThat(first).allSatisfy(s -> {
                assertThat(s.getHost()).isEqualTo(AgentConfig.hostName());
                assertThat(s.getTarget()).isEqualTo("local-echo");
                assertThat(s.getAddress()).isEqualTo(server.address());
                assertThat(s.getProbeType()).isEqualTo("tcp");
                assertThat(s.getProtocol()).isEqualTo("tcp");
                assertThat(s.getOutcome()).isEqualTo(Outcome.OK);
                assertThat(s.getLabels()).containsEntry("region", "local");
                assertThat(s.getResponseTimeNanos()).isGreaterThanOrEqualTo(s.getServiceTimeNanos()).isPositive();
                assertThat(s.getActualStartMicros()).isGreaterThanOrEqualTo(s.getScheduledStartMicros());
            });
            assertThat(first).extracting(LatencySample::getSequence).containsExactly(0L, 1L, 2L, 3L, 4L);
            assertThat(first.get(1).getScheduledStartMicros() - first.get(0).getScheduledStartMicros())
                    .isEqualTo(20_000L);
            await().untilAsserted(() -> assertThat(agent.samplesSent()).isGreaterThanOrEqualTo(5));

            // Step 2: /health.
            HttpResponse<String> health = get(agent, "/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            assertThat(health.body()).isEqualTo("{\"status\":\"UP\",\"agent\":\"" + AgentConfig.hostName() + "\",\"targets\":1}");

            // Step 3: /metrics counts at least the samples seen before the scrape.
            int seenBeforeScrape = samples.size();
            HttpResponse<String> metrics = get(agent, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            Matcher probes = Pattern.compile(
                    "(?m)^tailprobe_agent_probes_total\\{outcome=\"OK\",target=\"local-echo\",type=\"tcp\"} (\\S+)$")
                    .matcher(metrics.body());
            assertThat(probes.find()).as(metrics.body()).isTrue();
            assertThat(Double.parseDouble(probes.group(1))).isGreaterThanOrEqualTo(seenBeforeScrape);
            assertThat(metrics.body())
                    .contains("tailprobe_agent_schedule_lag_seconds_bucket{target=\"local-echo\",le=\"0.001\"}")
                    .contains("tailprobe_agent_probes_in_flight ")
                    .containsPattern("(?m)^tailprobe_agent_samples_sent_total \\d")
                    .contains("tailprobe_agent_sample_send_failures_total 0.0");
        }
        assertThat(sinkClosed).isTrue();
    }

    @Test
    void each_target_starts_at_its_own_phase_of_the_interval_not_all_at_once() throws Exception {
        Duration interval = Duration.ofMillis(200);
        List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h");
        try (TestTcpServer server = TestTcpServer.acceptOnly();
             ProbeAgent agent = ProbeAgent.start(new AgentConfig(new AgentConfig.Agent("phase-test", null),
                     new AgentConfig.Http(0), null, null, names.stream()
                     .map(name -> new Target(name, "tcp", server.address(), interval, Duration.ofSeconds(1), null, null,
                             Map.of()))
                     .toList()), memory)) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> samples.stream().map(LatencySample::getTarget).distinct().count() == names.size());

            Map<String, Long> firstScheduledMicros = new HashMap<>();
            samples.forEach(s -> firstScheduledMicros.putIfAbsent(s.getTarget(), s.getScheduledStartMicros()));
            long phaseOfA = Pacer.phaseNanos(agent.agentId(), "a", interval);
            long intervalMicros = interval.toNanos() / 1_000;
            assertThat(names).allSatisfy(name -> {
                long expectedMicros = (Pacer.phaseNanos(agent.agentId(), name, interval) - phaseOfA) / 1_000;
                long offsetMicros = firstScheduledMicros.get(name) - firstScheduledMicros.get("a");
                assertThat(Math.floorMod(offsetMicros - expectedMicros, intervalMicros))
                        .as("%s's slots relative to a's (µs, within the rounding to µs)", name)
                        .satisfiesAnyOf(d -> assertThat(d).isLessThanOrEqualTo(1L),
                                d -> assertThat(d).isGreaterThanOrEqualTo(intervalMicros - 1));
            });
            assertThat(firstScheduledMicros.values().stream().mapToLong(Long::longValue).summaryStatistics())
                    .as("first slots of 8 targets")
                    .satisfies(first -> assertThat(first.getMax() - first.getMin()).isGreaterThan(intervalMicros / 4));
        }
    }

    @Test
    void closing_stops_the_schedules_and_the_http_server() throws Exception {
        ProbeAgent agent;
        int port;
        try (TestTcpServer server = TestTcpServer.acceptOnly()) {
            agent = ProbeAgent.start(config(server.address()), memory);
            port = agent.httpPort();
            await().atMost(Duration.ofSeconds(10)).until(() -> samples.size() >= 2);
            agent.close();
            agent.close();
        }
        int afterClose = samples.size();

        assertThat(sinkClosed).isTrue();
        assertThat(agent.samplesSent()).isEqualTo(afterClose);
        assertThatThrownBy(() -> HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
        assertThat(samples).hasSize(afterClose);
    }

    @Test
    void a_bad_configuration_fails_before_anything_starts() {
        AgentConfig bad = config("127.0.0.1:0");

        assertThatThrownBy(() -> ProbeAgent.start(bad, memory)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("targets[0].address must be host:port");
        assertThat(sinkClosed).isTrue();
    }

    @Test
    void the_agent_command_exits_with_2_and_the_rule_on_bad_configuration() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine command = new CommandLine(new AgentCommand());
        command.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));

        int exit = command.execute("--set", "targets.0.interval=-5s", "--set", "http.port=0");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .isEqualTo("configuration error: targets[0].interval must be > 0, got -5s" + System.lineSeparator());
    }

    @Test
    void the_agent_command_exits_with_2_naming_a_spool_directory_it_cannot_write(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "");
        Path spool = file.resolve("spool");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine command = new CommandLine(new AgentCommand());
        command.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));

        int exit = command.execute("--set", "spool.directory=" + spool, "--set", "http.port=0");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("configuration error: spool.directory " + spool + " cannot be used: ");
    }

    private static HttpResponse<String> get(ProbeAgent agent, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + agent.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
