package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.schemas.LatencySample;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentReloadAndCheckTest {
    private final List<LatencySample> samples = new CopyOnWriteArrayList<>();

    private ProbeAgent start(AgentConfig config) {
        return ProbeAgent.start(config, (sample, done) -> {
            samples.add(sample);
            done.onCompletion(null);
        });
    }

    private static Target tcp(String name, String address, Duration interval) {
        return new Target(name, "tcp", address, interval, Duration.ofSeconds(1), null, null, Map.of());
    }

    private long countFor(String target) {
        return samples.stream().filter(s -> s.getTarget().equals(target)).count();
    }

    @Test
    void a_changed_target_list_applies_without_a_restart_and_unchanged_targets_keep_their_schedule() throws Exception {
        try (TestTcpServer server = TestTcpServer.acceptOnly();
             ProbeAgent agent = start(AgentConfig.defaultConfig().withHttpPort(0).withTargets(List.of(
                     tcp("kept", server.address(), Duration.ofMillis(20)),
                     tcp("removed", server.address(), Duration.ofMillis(20)))))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> countFor("kept") >= 3 && countFor("removed") >= 3);
            long firstKeptStart = samples.stream().filter(s -> s.getTarget().equals("kept")).findFirst()
                    .orElseThrow().getScheduledStartMicros();

            boolean applied = agent.reload(AgentConfig.defaultConfig().withHttpPort(0).withTargets(List.of(
                    tcp("kept", server.address(), Duration.ofMillis(20)),
                    tcp("added", server.address(), Duration.ofMillis(20)))));

            assertThat(applied).isTrue();
            assertThat(agent.targetNames()).containsExactly("kept", "added");
            long removedAtReload = countFor("removed");
            long keptAtReload = countFor("kept");
            await().atMost(Duration.ofSeconds(10)).until(() -> countFor("added") >= 3 && countFor("kept") >= keptAtReload + 3);
            assertThat(countFor("removed")).isEqualTo(removedAtReload);
            assertThat(samples.stream().filter(s -> s.getTarget().equals("kept")))
                    .as("the kept target's slots stay on its original 20 ms grid")
                    .allSatisfy(s -> assertThat((s.getScheduledStartMicros() - firstKeptStart) % 20_000L).isZero());
            assertThat(agent.metrics().configReloads(true)).isEqualTo(1.0);
        }
    }

    @Test
    void a_bad_edit_of_the_file_keeps_the_running_targets_and_is_counted(@TempDir Path dir) throws Exception {
        try (TestTcpServer server = TestTcpServer.acceptOnly()) {
            Path file = dir.resolve("agent.yaml");
            Files.writeString(file, targetsYaml(server.address(), "50ms"));
            AgentConfig initial = AgentConfig.load(file, Map.of(), List.of("http.port=0"));
            try (ProbeAgent agent = start(initial);
                 ConfigWatcher watcher = new ConfigWatcher(file,
                         () -> AgentConfig.load(file, Map.of(), List.of("http.port=0")), agent, Duration.ofHours(1))) {
                Files.writeString(file, targetsYaml(server.address(), "-5s"));
                watcher.checkOnce();

                assertThat(agent.metrics().configReloads(false)).isEqualTo(1.0);
                assertThat(agent.targetNames()).containsExactly("echo");
                long before = countFor("echo");
                await().atMost(Duration.ofSeconds(5)).until(() -> countFor("echo") > before);

                Files.writeString(file, targetsYaml(server.address(), "50ms").replace("echo", "renamed"));
                watcher.checkOnce();

                assertThat(agent.metrics().configReloads(true)).isEqualTo(1.0);
                assertThat(agent.targetNames()).containsExactly("renamed");
                watcher.checkOnce();
                assertThat(agent.metrics().configReloads(true)).as("an unchanged file is not reloaded").isEqualTo(1.0);
            }
        }
    }

    @Test
    void check_probes_every_target_once_now_and_answers_json() throws Exception {
        try (TestTcpServer up = TestTcpServer.acceptOnly();
             TestTcpServer down = TestTcpServer.acceptOnly()) {
            String closedAddress = down.address();
            down.close();
            try (ProbeAgent agent = start(AgentConfig.defaultConfig().withHttpPort(0).withTargets(List.of(
                    tcp("up", up.address(), Duration.ofHours(1)),
                    tcp("down", closedAddress, Duration.ofHours(1)))))) {
                HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create("http://localhost:" + agent.httpPort() + "/check"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

                assertThat(response.statusCode()).isEqualTo(200);
                JsonNode rows = new ObjectMapper().readTree(response.body());
                assertThat(rows).hasSize(2);
                assertThat(rows.get(0).path("target").asText()).isEqualTo("up");
                assertThat(rows.get(0).path("outcome").asText()).isEqualTo("OK");
                assertThat(rows.get(0).path("serviceTimeMillis").asDouble()).isPositive();
                assertThat(rows.get(0).path("phasesMillis").path("connect").asDouble()).isPositive();
                assertThat(rows.get(1).path("outcome").asText()).isEqualTo("REFUSED");
                assertThat(rows.get(1).path("errorDetail").asText()).contains("refused");
            }
        }
    }

    private static String targetsYaml(String address, String interval) {
        return "targets:\n  - name: echo\n    type: tcp\n    address: " + address + "\n    interval: " + interval + "\n";
    }
}
