package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.common.ConfigException;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class AgentMeshTest {
    @Test
    void an_agent_answers_udp_echo_so_another_agent_can_probe_it() {
        List<LatencySample> samples = new CopyOnWriteArrayList<>();
        try (ProbeAgent responder = ProbeAgent.start(AgentConfig.defaultConfig().withHttpPort(0).withTargets(List.of())
                .withUdpEcho(0), (s, done) -> done.onCompletion(null))) {
            Target peer = new Target("peer-agent", "udp", "127.0.0.1:" + responder.udpEchoPort(), Duration.ofMillis(50),
                    Duration.ofSeconds(1), null, null, Map.of(), null, null, new AgentConfig.UdpOptions(4, 64));
            try (ProbeAgent prober = ProbeAgent.start(AgentConfig.defaultConfig().withHttpPort(0).withTargets(List.of(peer)),
                    (s, done) -> {
                        samples.add(s);
                        done.onCompletion(null);
                    })) {
                await().atMost(Duration.ofSeconds(10)).until(() -> samples.size() >= 3);
            }
        }
        assertThat(samples).allSatisfy(s -> {
            assertThat(s.getOutcome()).isEqualTo(Outcome.OK);
            assertThat(s.getProtocol()).isEqualTo("udp");
            assertThat(s.getPacketsSent()).isEqualTo(4);
            assertThat(s.getPacketsReceived()).isEqualTo(4);
            assertThat(s.getServiceTimeNanos()).as("the median RTT on loopback").isPositive().isLessThan(50_000_000L);
        });
    }

    @Test
    void a_udp_echo_port_out_of_range_fails_at_start_up() {
        assertThatThrownBy(() -> ProbeAgent.start(AgentConfig.defaultConfig().withHttpPort(0).withUdpEcho(70_000),
                (s, done) -> done.onCompletion(null)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("udpEcho.port must be between 0 and 65535, got 70000");
    }
}
