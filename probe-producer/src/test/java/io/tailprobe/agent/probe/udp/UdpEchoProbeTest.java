package io.tailprobe.agent.probe.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.AgentConfig.UdpOptions;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.Probes;
import io.tailprobe.agent.probe.udp.UdpEchoProbe.Round;
import io.tailprobe.schemas.Outcome;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UdpEchoProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

    private UdpEchoResponder responder;

    @BeforeEach
    void startResponder() {
        responder = UdpEchoResponder.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void stopResponder() {
        responder.close();
    }

    @Test
    void a_probe_result_carries_the_packet_counts_and_the_median_rtt_as_its_latency() throws Exception {
        try (UdpEchoProbe probe = probe("127.0.0.1:" + responder.port(), new UdpOptions(4, null), TIMEOUT)) {
            var result = probe.probe();

            assertThat(result.outcome()).isEqualTo(Outcome.OK);
            assertThat(result.packetsSent()).isEqualTo(4);
            assertThat(result.packetsReceived()).isEqualTo(4);
            assertThat(result.packetsReordered()).isZero();
            assertThat(result.latencyNanos()).isPositive().isLessThan(TIMEOUT.toNanos());
            assertThat(result.protocol()).isNull();
        }
    }

    @Test
    void every_packet_comes_back_from_the_responder_with_a_positive_rtt() throws Exception {
        try (UdpEchoProbe probe = probe("127.0.0.1:" + responder.port(), new UdpOptions(null, null), TIMEOUT)) {
            long start = System.nanoTime();
            Round round = probe.round();
            long elapsedNanos = System.nanoTime() - start;

            assertThat(round.result().outcome()).isEqualTo(Outcome.OK);
            assertThat(round.result().errorDetail()).isNull();
            assertThat(round.result().address()).isEqualTo("127.0.0.1:" + responder.port());
            assertThat(round.packetsSent()).isEqualTo(5);
            assertThat(round.packetsReceived()).isEqualTo(5);
            assertThat(round.packetsLost()).isZero();
            assertThat(round.packetsReordered()).isZero();
            assertThat(round.rttNanos()).hasSize(5).allSatisfy(rtt -> assertThat(rtt).isPositive().isLessThan(elapsedNanos));
            assertThat(round.medianRttNanos()).isPositive();
            assertThat(elapsedNanos).as("a complete round does not wait for the timeout").isLessThan(TIMEOUT.toNanos());
            assertThat(responder.echoedCount()).isEqualTo(5);
        }
    }

    @Test
    void consecutive_rounds_on_one_socket_each_get_all_their_packets() throws Exception {
        try (UdpEchoProbe probe = probe("127.0.0.1:" + responder.port(), new UdpOptions(20, 1_200), TIMEOUT)) {
            for (int i = 0; i < 3; i++) {
                Round round = probe.round();

                assertThat(round.packetsReceived()).isEqualTo(20);
                assertThat(round.packetsLost()).isZero();
            }
            assertThat(responder.echoedCount()).isEqualTo(60);
        }
    }

    @Test
    void dropped_echoes_count_as_loss_and_the_round_still_reports_ok() throws Exception {
        try (ReplyRelay relay = ReplyRelay.droppingOddSequences(echoAddress());
             UdpEchoProbe probe = probe(relay.address(), new UdpOptions(6, null), SHORT_TIMEOUT)) {
            long start = System.nanoTime();
            Round round = probe.round();
            long elapsedNanos = System.nanoTime() - start;

            assertThat(round.result().outcome()).isEqualTo(Outcome.OK);
            assertThat(round.packetsSent()).isEqualTo(6);
            assertThat(round.packetsReceived()).isEqualTo(3);
            assertThat(round.packetsLost()).isEqualTo(3);
            assertThat(round.packetsReordered()).isZero();
            assertThat(elapsedNanos).as("the round waits out the timeout for the missing echoes")
                    .isBetween(SHORT_TIMEOUT.toNanos(), SHORT_TIMEOUT.toNanos() + Duration.ofMillis(300).toNanos());
        }
    }

    @Test
    void an_echo_that_arrives_after_a_later_one_counts_as_reordered() throws Exception {
        try (ReplyRelay relay = ReplyRelay.swapping(echoAddress(), 1, 2);
             UdpEchoProbe probe = probe(relay.address(), new UdpOptions(5, 32), TIMEOUT)) {
            Round round = probe.round();

            assertThat(round.result().outcome()).isEqualTo(Outcome.OK);
            assertThat(round.packetsReceived()).isEqualTo(5);
            assertThat(round.packetsReordered()).isEqualTo(1);
        }
    }

    @Test
    void nothing_listening_times_out_within_the_timeout() throws Exception {
        int port;
        try (DatagramChannel unused = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = ((InetSocketAddress) unused.getLocalAddress()).getPort();
        }
        try (UdpEchoProbe probe = probe("127.0.0.1:" + port, new UdpOptions(3, null), SHORT_TIMEOUT)) {
            long start = System.nanoTime();
            Round round = probe.round();
            long elapsedNanos = System.nanoTime() - start;

            assertThat(round.result().outcome()).isEqualTo(Outcome.TIMEOUT);
            assertThat(round.result().errorDetail())
                    .isEqualTo("no echo from 127.0.0.1:" + port + " of 3 packets within the probe timeout 300ms");
            assertThat(round.packetsSent()).isEqualTo(3);
            assertThat(round.packetsReceived()).isZero();
            assertThat(round.packetsLost()).isEqualTo(3);
            assertThat(round.medianRttNanos()).isNull();
            assertThat(elapsedNanos).isBetween(SHORT_TIMEOUT.toNanos(), SHORT_TIMEOUT.toNanos() + Duration.ofMillis(300).toNanos());
        }
    }

    @Test
    void an_interrupt_ends_a_waiting_round_with_interrupted_exception() throws Exception {
        int port;
        try (DatagramChannel unused = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = ((InetSocketAddress) unused.getLocalAddress()).getPort();
        }
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        try (UdpEchoProbe probe = probe("127.0.0.1:" + port, null, Duration.ofSeconds(30))) {
            Thread prober = Thread.ofVirtual().start(() -> {
                try {
                    probe.round();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            await().atMost(Duration.ofSeconds(2)).until(() -> prober.getState() == Thread.State.WAITING
                    || prober.getState() == Thread.State.TIMED_WAITING);

            prober.interrupt();

            assertThat(prober.join(Duration.ofSeconds(2))).isTrue();
            assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        }
    }

    @Test
    void the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assertThat(UdpEchoProbe.median(List.of(900L, 140L, 150L, 160L, 180L))).isEqualTo(160L);
        assertThat(UdpEchoProbe.median(List.of(140L, 150L, 160L, 180L))).isEqualTo(155L);
        assertThat(UdpEchoProbe.median(List.of(7L))).isEqualTo(7L);
    }

    @Test
    void the_registry_builds_a_udp_probe() {
        Probe probe = Probes.create(target("peer.internal:7007", null), TIMEOUT);

        assertThat(probe).isInstanceOf(UdpEchoProbe.class);
        assertThat(probe.type()).isEqualTo("udp");
        assertThat(probe.protocol()).isEqualTo("udp");
        assertThat(probe.address()).isEqualTo("peer.internal:7007");
    }

    @Test
    void bad_options_are_rejected_with_the_key_first() {
        assertThatThrownBy(() -> probe("127.0.0.1:7007", new UdpOptions(0, null), TIMEOUT))
                .hasMessage("udp.packets must be in [1, 1000], got 0");
        assertThatThrownBy(() -> probe("127.0.0.1:7007", new UdpOptions(1_001, null), TIMEOUT))
                .hasMessage("udp.packets must be in [1, 1000], got 1001");
        assertThatThrownBy(() -> probe("127.0.0.1:7007", new UdpOptions(null, 15), TIMEOUT))
                .hasMessage("udp.payloadBytes must be in [16, 65507], got 15");
        assertThatThrownBy(() -> probe("127.0.0.1", null, TIMEOUT))
                .hasMessage("address must be host:port with a port from 1 to 65535 (IPv6 as [addr]:port), got \"127.0.0.1\"");
        assertThatThrownBy(() -> UdpEchoProbe.fromConfig(
                new AgentConfig.Target("peer", "udp", "127.0.0.1:7007", null, null, "ping", null, Map.of()), TIMEOUT))
                .hasMessageStartingWith("send is not used by udp targets");
    }

    private InetSocketAddress echoAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), responder.port());
    }

    private static UdpEchoProbe probe(String address, UdpOptions options, Duration timeout) {
        return UdpEchoProbe.fromConfig(target(address, options), timeout);
    }

    private static AgentConfig.Target target(String address, UdpOptions options) {
        return new AgentConfig.Target("peer", "udp", address, null, null, null, null, Map.of(), null, null, options);
    }
}
