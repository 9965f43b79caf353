package io.tailprobe.agent.probe.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class UdpEchoResponderTest {
    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @Test
    void a_probe_packet_comes_back_byte_for_byte() throws Exception {
        try (UdpEchoResponder responder = UdpEchoResponder.start(ANY_LOOPBACK_PORT);
             DatagramChannel client = DatagramChannel.open().bind(ANY_LOOPBACK_PORT)) {
            ByteBuffer sent = EchoPacket.write(ByteBuffer.allocate(100), 42, 7, 123_456_789L, 100);

            client.send(sent.duplicate(), echoAddress(responder));
            ByteBuffer echo = ByteBuffer.allocate(200);
            SocketAddress from = client.receive(echo);

            assertThat(from).isEqualTo(echoAddress(responder));
            assertThat(echo.flip()).isEqualTo(sent);
            assertThat(EchoPacket.roundId(echo)).isEqualTo(42);
            assertThat(EchoPacket.sequence(echo)).isEqualTo(7);
            assertThat(EchoPacket.sentNanos(echo)).isEqualTo(123_456_789L);
            // the responder counts after it has sent, so the echo can arrive first
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(responder.echoedCount()).isEqualTo(1));
        }
    }

    @Test
    void datagrams_without_the_magic_are_dropped_and_counted() throws Exception {
        try (UdpEchoResponder responder = UdpEchoResponder.start(ANY_LOOPBACK_PORT);
             DatagramChannel client = DatagramChannel.open().bind(ANY_LOOPBACK_PORT)) {
            client.send(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), echoAddress(responder));
            client.send(ByteBuffer.wrap(new byte[] {'T', 'P'}), echoAddress(responder));

            await().atMost(Duration.ofSeconds(2)).until(() -> responder.ignoredCount() == 2);
            assertThat(responder.echoedCount()).isZero();
        }
    }

    @Test
    void close_releases_the_port_for_a_new_responder() {
        UdpEchoResponder first = UdpEchoResponder.start(ANY_LOOPBACK_PORT);
        int port = first.port();
        InetSocketAddress samePort = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        assertThatThrownBy(() -> UdpEchoResponder.start(samePort))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith("cannot bind the UDP echo responder to ");

        first.close();

        try (UdpEchoResponder second = UdpEchoResponder.start(samePort)) {
            assertThat(second.port()).isEqualTo(port);
        }
    }

    private static InetSocketAddress echoAddress(UdpEchoResponder responder) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), responder.port());
    }
}
