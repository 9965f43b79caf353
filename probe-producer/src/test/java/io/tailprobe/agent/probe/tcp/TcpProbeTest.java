package io.tailprobe.agent.probe.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.agent.TestTcpServer;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TcpProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final long MARGIN_NANOS = Duration.ofMillis(1_000).toNanos();

    @Test
    void connect_only_probe_succeeds_and_times_the_connect() throws Exception {
        try (TestTcpServer server = TestTcpServer.acceptOnly()) {
            TcpProbe probe = new TcpProbe("127.0.0.1", server.port(), TIMEOUT, null, null);

            ProbeResult result = probe.probe();

            assertThat(result.outcome()).isEqualTo(Outcome.OK);
            assertThat(result.address()).isEqualTo(server.address());
            assertThat(result.errorDetail()).isNull();
            assertThat(result.phases().getConnectNanos()).isPositive();
            assertThat(result.phases().getFirstByteNanos()).isNull();
            assertThat(probe.type()).isEqualTo("tcp");
            assertThat(probe.protocol()).isEqualTo("tcp");
        }
    }

    @Test
    void the_connect_phase_is_the_kernels_own_handshake_rtt_in_whole_microseconds() throws Exception {
        assertThat(KernelHandshake.unavailableReason()).as("TCP_INFO readable (Linux, --add-exports from the pom)").isNull();
        try (TestTcpServer server = TestTcpServer.acceptOnly()) {
            long wallNanos;
            long kernelNanos;
            try (SocketChannel channel = SocketChannel.open()) {
                long start = System.nanoTime();
                channel.connect(new InetSocketAddress("127.0.0.1", server.port()));
                wallNanos = System.nanoTime() - start;
                kernelNanos = KernelHandshake.rttNanos(channel);
            }
            assertThat(kernelNanos).isPositive().isLessThanOrEqualTo(wallNanos);
            assertThat(kernelNanos % 1_000).as("tcpi_rtt counts microseconds").isZero();

            long start = System.nanoTime();
            ProbeResult result = new TcpProbe("127.0.0.1", server.port(), TIMEOUT, null, null).probe();
            long probeWallNanos = System.nanoTime() - start;
            long connectNanos = result.phases().getConnectNanos();
            assertThat(connectNanos % 1_000).isZero();
            assertThat(connectNanos).isPositive().isLessThanOrEqualTo(probeWallNanos);
            assertThat(result.latencyNanos()).as("service time = sum of phases").isEqualTo(sum(result.phases()));
        }
    }

    @Test
    void a_reply_after_50_ms_is_timed_as_first_byte_and_counts_in_the_service_time() throws Exception {
        try (TestTcpServer server = TestTcpServer.replying(Duration.ofMillis(50), "pong from test\n")) {
            TcpProbe probe = new TcpProbe("127.0.0.1", server.port(), TIMEOUT, "ping\n", Pattern.compile("pong"));

            long start = System.nanoTime();
            ProbeResult result = probe.probe();
            long serviceNanos = System.nanoTime() - start;

            assertThat(result.outcome()).isEqualTo(Outcome.OK);
            assertThat(serviceNanos).isBetween(Duration.ofMillis(50).toNanos(), Duration.ofMillis(50).toNanos() + MARGIN_NANOS);
            PhaseTimings phases = result.phases();
            assertThat(phases.getFirstByteNanos()).isGreaterThanOrEqualTo(Duration.ofMillis(45).toNanos());
            assertThat(phases.getConnectNanos()).isPositive();
            assertThat(phases.getRequestWriteNanos()).isNotNull();
            assertThat(phases.getTransferNanos()).isNotNegative();
            assertThat(sum(phases)).isLessThanOrEqualTo(serviceNanos);
        }
    }

    @Test
    void a_banner_is_read_when_only_expect_is_set() throws Exception {
        try (TestTcpServer server = TestTcpServer.banner("SSH-2.0-test\r\n")) {
            ProbeResult result = new TcpProbe("127.0.0.1", server.port(), TIMEOUT, null, Pattern.compile("^SSH-2\\.0-test$"))
                    .probe();

            assertThat(result.outcome()).isEqualTo(Outcome.OK);
            assertThat(result.phases().getFirstByteNanos()).isNotNull();
        }
    }

    @Test
    void a_reply_that_does_not_match_fails_validation_and_quotes_the_reply() throws Exception {
        try (TestTcpServer server = TestTcpServer.replying(Duration.ZERO, "go away\n")) {
            ProbeResult result = new TcpProbe("127.0.0.1", server.port(), TIMEOUT, "ping\n", Pattern.compile("pong"))
                    .probe();

            assertThat(result.outcome()).isEqualTo(Outcome.VALIDATION_FAILED);
            assertThat(result.errorDetail()).isEqualTo("reply \"go away\" does not match /pong/");
        }
    }

    @Test
    void a_server_that_closes_without_replying_fails_validation() throws Exception {
        try (TestTcpServer server = TestTcpServer.acceptOnly()) {
            ProbeResult result = new TcpProbe("127.0.0.1", server.port(), TIMEOUT, null, Pattern.compile("hello"))
                    .probe();

            assertThat(result.outcome()).isEqualTo(Outcome.VALIDATION_FAILED);
            assertThat(result.errorDetail()).contains("closed the connection before replying");
        }
    }

    @Test
    void a_closed_port_is_refused() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }

        ProbeResult result = new TcpProbe("127.0.0.1", port, TIMEOUT, null, null).probe();

        assertThat(result.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(result.errorDetail()).startsWith("connect to 127.0.0.1:" + port + ": ").containsIgnoringCase("refused");
        assertThat(result.phases().getConnectNanos()).isNull();
    }

    @Test
    void a_server_that_never_answers_times_out_within_the_timeout() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        try (TestTcpServer server = TestTcpServer.silent()) {
            TcpProbe probe = new TcpProbe("127.0.0.1", server.port(), timeout, "ping\n", Pattern.compile("pong"));

            long start = System.nanoTime();
            ProbeResult result = probe.probe();
            long elapsed = System.nanoTime() - start;

            assertThat(result.outcome()).isEqualTo(Outcome.TIMEOUT);
            assertThat(result.errorDetail())
                    .isEqualTo("read reply from " + server.address() + " timed out (probe timeout 300ms)");
            assertThat(elapsed).isBetween(timeout.toNanos() - Duration.ofMillis(5).toNanos(),
                    timeout.toNanos() + Duration.ofMillis(200).toNanos());
            assertThat(sum(result.phases())).isLessThanOrEqualTo(elapsed);
        }
    }

    @Test
    void an_unresolvable_host_is_a_dns_error() throws Exception {
        ProbeResult result = new TcpProbe("no-such-host.invalid", 80, TIMEOUT, null, null).probe();

        assertThat(result.outcome()).isEqualTo(Outcome.DNS_ERROR);
        assertThat(result.address()).isEqualTo("no-such-host.invalid:80");
        assertThat(result.errorDetail()).isEqualTo("cannot resolve no-such-host.invalid");
    }

    @Test
    void socket_errors_map_to_outcomes() {
        assertThat(TcpProbe.classify(new java.net.NoRouteToHostException("No route to host")))
                .isEqualTo(Outcome.UNREACHABLE);
        assertThat(TcpProbe.classify(new java.net.SocketException("Network is unreachable")))
                .isEqualTo(Outcome.UNREACHABLE);
        assertThat(TcpProbe.classify(new java.net.ConnectException("Connection refused")))
                .isEqualTo(Outcome.REFUSED);
        assertThat(TcpProbe.classify(new java.net.SocketException("Connection reset")))
                .isEqualTo(Outcome.IO_ERROR);
    }

    private static long sum(PhaseTimings phases) {
        return Stream.of(phases.getDnsNanos(), phases.getConnectNanos(), phases.getTlsNanos(),
                        phases.getRequestWriteNanos(), phases.getFirstByteNanos(), phases.getTransferNanos())
                .filter(v -> v != null)
                .mapToLong(Long::longValue)
                .sum();
    }
}
