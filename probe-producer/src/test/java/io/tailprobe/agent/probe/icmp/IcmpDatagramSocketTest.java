package io.tailprobe.agent.probe.icmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.security.auth.module.UnixSystem;
import io.tailprobe.agent.probe.icmp.IcmpProbe.Round;
import io.tailprobe.schemas.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The unprivileged path: an ICMP datagram ("ping") socket, which the kernel allows to the groups
 * in {@code net.ipv4.ping_group_range}. The test lets root's group in for the moment it opens its
 * socket (root, so it can write the sysctl; the agent under test is root too, so the raw-socket
 * fallback is what it would use otherwise) and puts the range back.
 */
class IcmpDatagramSocketTest {
    private static final Path PING_GROUP_RANGE = Path.of("/proc/sys/net/ipv4/ping_group_range");

    @Test
    void a_ping_socket_opened_under_ping_group_range_gets_its_replies() throws Exception {
        assumeTrue(new UnixSystem().getUid() == 0, "needs root to write net.ipv4.ping_group_range");
        String saved = IcmpSocket.pingGroupRange();
        IcmpSocket socket;
        Files.writeString(PING_GROUP_RANGE, "0 0");
        try {
            socket = IcmpSocket.tryOpen(IcmpSocket.Kind.DATAGRAM);
        } finally {
            Files.writeString(PING_GROUP_RANGE, saved.replace(' ', '\t'));
        }
        assertThat(IcmpSocket.pingGroupRange()).isEqualTo(saved);
        assertThat(socket).as("datagram socket with group 0 in ping_group_range: " + LibC.lastError()).isNotNull();
        assertThat(socket.kind()).isEqualTo(IcmpSocket.Kind.DATAGRAM);

        Round round = new IcmpProbe("127.0.0.1", Duration.ofSeconds(1), 3, 56, () -> socket).round();

        assertThat(round.result().outcome()).as(round.result().errorDetail()).isEqualTo(Outcome.OK);
        assertThat(round.packetsSent()).isEqualTo(3);
        assertThat(round.packetsReceived()).isEqualTo(3);
        assertThat(round.medianRttNanos()).isPositive().isLessThan(Duration.ofMillis(100).toNanos());
        assertThat(socket.strayReplies()).isZero();
    }
}
