package io.tailprobe.agent.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.agent.TestTcpServer;
import io.tailprobe.agent.probe.dns.TestDnsServer;
import io.tailprobe.agent.probe.udp.UdpEchoResponder;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Phases;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One contract, every probe type, each against a real peer on loopback: a live peer gives OK with
 * the address probed and phases that fit inside the probe's own time; a peer that is gone gives a
 * failure outcome with a detail, never an exception; the type is the registered name; a probe can
 * be closed twice. (As HdrHistogram's HistogramTest runs one suite over every implementation.)
 */
class ProbeContractTest {
    static final Duration TIMEOUT = Duration.ofSeconds(1);
    static final List<AutoCloseable> PEERS = new ArrayList<>();
    static String tcpUp;
    static String httpUp;
    static String dnsUp;
    static String udpUp;
    static String closedPort;

    @BeforeAll
    static void startPeers() throws IOException {
        TestTcpServer tcp = TestTcpServer.acceptOnly();
        PEERS.add(tcp);
        tcpUp = tcp.address();

        MockWebServer http = new MockWebServer();
        for (int i = 0; i < 10; i++) {
            http.enqueue(new MockResponse().setBody("ok"));
        }
        http.start(java.net.InetAddress.getLoopbackAddress(), 0);
        PEERS.add(http::shutdown);
        httpUp = "http://127.0.0.1:" + http.getPort() + "/health";

        TestDnsServer dns = TestDnsServer.start().withA("db.test", "10.0.0.7");
        PEERS.add(dns);
        dnsUp = dns.address();

        UdpEchoResponder udp = UdpEchoResponder.start(new InetSocketAddress("127.0.0.1", 0));
        PEERS.add(udp);
        udpUp = "127.0.0.1:" + udp.port();

        try (ServerSocket free = new ServerSocket(0)) {
            closedPort = String.valueOf(free.getLocalPort());
        }
    }

    @AfterAll
    static void stopPeers() throws Exception {
        for (AutoCloseable peer : PEERS) {
            peer.close();
        }
    }

    /** Per type: a target whose peer answers, and one whose peer is gone. */
    static Stream<Arguments> probeTypes() {
        return Stream.of(
                Arguments.of("tcp", target("tcp", tcpUp, null, null), target("tcp", "127.0.0.1:" + closedPort, null, null)),
                Arguments.of("http", target("http", httpUp, null, null),
                        target("http", "http://127.0.0.1:" + closedPort + "/", null, null)),
                Arguments.of("dns", target("dns", dnsUp, new AgentConfig.DnsOptions("db.test", "A", "udp", null), null),
                        target("dns", "127.0.0.1:" + closedPort, new AgentConfig.DnsOptions("db.test", "A", "tcp", null), null)),
                Arguments.of("udp", target("udp", udpUp, null, new AgentConfig.UdpOptions(3, 32)),
                        target("udp", "127.0.0.1:" + closedPort, null, new AgentConfig.UdpOptions(3, 32))));
    }

    /** Every type with a live peer; ICMP's peer is the loopback stack itself (a gone ICMP peer needs a namespace: IcmpSilentHostTest). */
    static Stream<Arguments> liveProbeTypes() {
        return Stream.concat(probeTypes(), Stream.of(Arguments.of("icmp",
                new Target("contract-icmp", "icmp", "127.0.0.1", Duration.ofSeconds(1), TIMEOUT, null, null, Map.of()),
                null)));
    }

    private static Target target(String type, String address, AgentConfig.DnsOptions dns, AgentConfig.UdpOptions udp) {
        return new Target("contract-" + type, type, address, Duration.ofSeconds(1), TIMEOUT, null, null, Map.of(),
                null, dns, udp);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("liveProbeTypes")
    void a_live_peer_gives_ok_with_the_address_and_phases_inside_the_probe_time(String type, Target up, Target down)
            throws Exception {
        try (Probe probe = Probes.create(up, TIMEOUT)) {
            assertThat(probe.type()).isEqualTo(type);
            assertThat(Probes.types()).contains(type);

            long start = System.nanoTime();
            ProbeResult result = probe.probe();
            long wallNanos = System.nanoTime() - start;

            assertThat(result.outcome()).as(result.errorDetail()).isEqualTo(Outcome.OK);
            assertThat(result.errorDetail()).isNull();
            assertThat(result.address()).startsWith("127.0.0.1");
            long totalNanos = result.latencyNanos() != null ? result.latencyNanos() : wallNanos;
            assertThat(totalNanos).isPositive().isLessThanOrEqualTo(wallNanos);
            long phaseSum = Phases.present(result.phases()).values().stream().mapToLong(Long::longValue).sum();
            assertThat(Phases.present(result.phases()).values()).allSatisfy(nanos -> assertThat(nanos).isNotNegative());
            assertThat(phaseSum).as("phases fit inside the probe's time").isLessThanOrEqualTo(wallNanos);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("probeTypes")
    void a_gone_peer_gives_a_failure_outcome_with_a_detail_within_the_timeout(String type, Target up, Target down)
            throws Exception {
        try (Probe probe = Probes.create(down, TIMEOUT)) {
            long start = System.nanoTime();
            ProbeResult result = probe.probe();
            long wallNanos = System.nanoTime() - start;

            assertThat(result.outcome()).isIn(Outcome.REFUSED, Outcome.TIMEOUT, Outcome.IO_ERROR);
            assertThat(result.errorDetail()).isNotBlank();
            assertThat(wallNanos).isLessThan(TIMEOUT.toNanos() + Duration.ofMillis(500).toNanos());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("liveProbeTypes")
    void a_probe_can_be_closed_twice(String type, Target up, Target down) {
        Probe probe = Probes.create(up, TIMEOUT);
        probe.close();
        probe.close();
    }
}
