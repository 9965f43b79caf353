package io.tailprobe.agent.probe.icmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;


import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.Probes;
import io.tailprobe.agent.probe.icmp.IcmpProbe.Round;
import io.tailprobe.schemas.Outcome;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** Real ICMP echo to loopback through the agent's shared socket (raw when run as root). */
class IcmpProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final long TEN_MS = 10_000_000L;

    @Test
    void every_packet_to_loopback_comes_back_with_an_rtt_under_ten_milliseconds() throws Exception {
        IcmpProbe probe = IcmpProbe.fromConfig(new AgentConfig.Target("lo", "icmp", "127.0.0.1"), TIMEOUT);

        long start = System.nanoTime();
        Round round = probe.round();
        long elapsedNanos = System.nanoTime() - start;

        assertThat(round.result().outcome()).isEqualTo(Outcome.OK);
        assertThat(round.result().errorDetail()).isNull();
        assertThat(round.result().address()).isEqualTo("127.0.0.1");
        assertThat(round.packetsSent()).isEqualTo(5);
        assertThat(round.packetsReceived()).isEqualTo(5);
        assertThat(round.packetsLost()).isZero();
        assertThat(round.rttNanos()).hasSize(5).allSatisfy(rtt -> assertThat(rtt).isPositive().isLessThan(TEN_MS));
        assertThat(elapsedNanos).as("a complete round does not wait for the timeout").isLessThan(TIMEOUT.toNanos());
    }

    @Test
    void a_probe_result_carries_the_packet_counts_and_the_median_rtt_as_its_latency() throws Exception {
        IcmpProbe probe = IcmpProbe.fromConfig(new AgentConfig.Target("lo", "icmp", "localhost"), TIMEOUT, 3, 1_000);

        var result = probe.probe();

        assertThat(result.outcome()).isEqualTo(Outcome.OK);
        assertThat(result.address()).isEqualTo("127.0.0.1");
        assertThat(result.packetsSent()).isEqualTo(3);
        assertThat(result.packetsReceived()).isEqualTo(3);
        assertThat(result.packetsReordered()).isZero();
        assertThat(result.latencyNanos()).isPositive().isLessThan(TEN_MS);
    }

    @Test
    void two_targets_probed_at_once_through_the_shared_socket_each_get_exactly_their_own_replies() throws Exception {
        IcmpProbe first = IcmpProbe.fromConfig(new AgentConfig.Target("a", "icmp", "127.0.0.1"), TIMEOUT, 50, 56);
        IcmpProbe second = IcmpProbe.fromConfig(new AgentConfig.Target("b", "icmp", "127.0.0.2"), TIMEOUT, 30, 56);
        int straysBefore = IcmpSocket.shared().strayReplies();

        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Round> a = CompletableFuture.supplyAsync(() -> roundOf(first), threads);
                CompletableFuture<Round> b = CompletableFuture.supplyAsync(() -> roundOf(second), threads);

                assertThat(a.get().result().address()).isEqualTo("127.0.0.1");
                assertThat(a.get().packetsReceived()).isEqualTo(50);
                assertThat(a.get().packetsLost()).isZero();
                assertThat(b.get().result().address()).isEqualTo("127.0.0.2");
                assertThat(b.get().packetsReceived()).isEqualTo(30);
                assertThat(b.get().packetsLost()).isZero();
            }
        }
        assertThat(IcmpSocket.shared().strayReplies()).as("no reply went unmatched").isEqualTo(straysBefore);
    }

    @Test
    void the_registry_builds_an_icmp_probe() {
        Probe probe = Probes.create(new AgentConfig.Target("gw", "icmp", "gateway.internal"), TIMEOUT);

        assertThat(probe).isInstanceOf(IcmpProbe.class);
        assertThat(probe.type()).isEqualTo("icmp");
        assertThat(probe.protocol()).isEqualTo("icmp");
        assertThat(probe.address()).isEqualTo("gateway.internal");
    }

    @Test
    void bad_config_is_rejected_with_the_key_first() {
        assertThatThrownBy(() -> IcmpProbe.fromConfig(new AgentConfig.Target("gw", "icmp", "10.0.0.1:80"), TIMEOUT))
                .hasMessage("address must be a host or IPv4 address (no port), got \"10.0.0.1:80\"");
        assertThatThrownBy(() -> IcmpProbe.fromConfig(new AgentConfig.Target("gw", "icmp", "::1"), TIMEOUT))
                .hasMessage("address must be a host or IPv4 address (no port), got \"::1\"");
        assertThatThrownBy(() -> IcmpProbe.fromConfig(new AgentConfig.Target("gw", "icmp", " "), TIMEOUT))
                .hasMessage("address is required (the host or IPv4 address to ping)");
        assertThatThrownBy(() -> IcmpProbe.fromConfig(
                new AgentConfig.Target("gw", "icmp", "10.0.0.1", null, null, "ping", null, Map.of()), TIMEOUT))
                .hasMessageStartingWith("send is not used by icmp targets");
        assertThatThrownBy(() -> IcmpProbe.fromConfig(new AgentConfig.Target("gw", "icmp", "10.0.0.1"), TIMEOUT, 0, null))
                .hasMessage("icmp.packets must be in [1, 1000], got 0");
        assertThatThrownBy(() -> IcmpProbe.fromConfig(new AgentConfig.Target("gw", "icmp", "10.0.0.1"), TIMEOUT, null, 7))
                .hasMessage("icmp.payloadBytes must be in [8, 65507], got 7");
    }

    @Test
    void with_an_empty_ping_group_range_the_shared_socket_is_raw() throws Exception {
        String[] range = IcmpSocket.pingGroupRange().split(" ");
        assumeTrue(Long.parseLong(range[0]) > Long.parseLong(range[1]),
                "runs where net.ipv4.ping_group_range (here " + String.join(" ", range) + ") allows no group");

        assertThat(IcmpSocket.shared().kind()).isEqualTo(IcmpSocket.Kind.RAW);
    }

    private static Round roundOf(IcmpProbe probe) {
        try {
            return probe.round();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
