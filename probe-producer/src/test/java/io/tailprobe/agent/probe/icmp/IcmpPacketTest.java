package io.tailprobe.agent.probe.icmp;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.agent.probe.icmp.IcmpPacket.EchoReply;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class IcmpPacketTest {
    @Test
    void an_echo_request_carries_a_valid_checksum_the_sequence_and_the_send_time() {
        byte[] request = IcmpPacket.echoRequest(0xBEEF, 0x1234, 987_654_321L, 56);

        assertThat(request).hasSize(64);
        assertThat(request[0]).isEqualTo((byte) 8);
        assertThat(IcmpPacket.checksum(request, 0, request.length)).isZero();
        assertThat(ByteBuffer.wrap(request).getShort(4) & 0xffff).isEqualTo(0xBEEF);
        assertThat(ByteBuffer.wrap(request).getShort(6) & 0xffff).isEqualTo(0x1234);
        assertThat(ByteBuffer.wrap(request).getLong(8)).isEqualTo(987_654_321L);
    }

    @Test
    void a_reply_is_read_after_the_ip_header_on_raw_sockets_and_from_the_start_on_datagram_sockets() {
        byte[] reply = asReply(IcmpPacket.echoRequest(7, 65_535, 42L, 11));
        byte[] withIpHeader = new byte[24 + reply.length];
        withIpHeader[0] = 0x46; // IPv4 with a 24-byte header (one option word)
        System.arraycopy(reply, 0, withIpHeader, 24, reply.length);

        assertThat(IcmpPacket.parseReply(reply, reply.length, false)).isEqualTo(new EchoReply(7, 65_535, 42L));
        assertThat(IcmpPacket.parseReply(withIpHeader, withIpHeader.length, true)).isEqualTo(new EchoReply(7, 65_535, 42L));
    }

    @Test
    void requests_truncated_replies_and_corrupt_raw_replies_are_not_replies() {
        byte[] request = IcmpPacket.echoRequest(7, 1, 42L, 8);
        byte[] reply = asReply(request);
        byte[] corrupt = new byte[20 + reply.length];
        corrupt[0] = 0x45;
        System.arraycopy(reply, 0, corrupt, 20, reply.length);
        corrupt[corrupt.length - 1] ^= 1;

        assertThat(IcmpPacket.parseReply(request, request.length, false)).isNull();
        assertThat(IcmpPacket.parseReply(reply, 15, false)).isNull();
        assertThat(IcmpPacket.parseReply(corrupt, corrupt.length, true)).isNull();
    }

    @Test
    void a_sockaddr_in_holds_the_family_in_host_order_then_port_zero_and_the_address() throws Exception {
        byte[] sockaddr = IcmpSocket.sockaddrIn((Inet4Address) InetAddress.getByName("10.1.2.3"));

        assertThat(sockaddr).hasSize(16);
        assertThat(ByteBuffer.wrap(sockaddr).order(java.nio.ByteOrder.nativeOrder()).getShort(0)).isEqualTo((short) 2);
        assertThat(sockaddr).startsWith(sockaddr[0], sockaddr[1], (byte) 0, (byte) 0, (byte) 10, (byte) 1, (byte) 2, (byte) 3);
    }

    @Test
    void the_start_up_error_names_the_sysctl_with_the_group_and_the_capability() {
        String message = IcmpSocket.unavailableMessage(1000, "1 0", "Permission denied (errno 13)",
                "Operation not permitted (errno 1)");

        assertThat(message).isEqualTo("needs either net.ipv4.ping_group_range to include group 1000 (now \"1 0\") "
                + "or CAP_NET_RAW (run as root or setcap cap_net_raw+ep on java); "
                + "datagram socket: Permission denied (errno 13), raw socket: Operation not permitted (errno 1)");
    }

    /** The reply a host sends: the request with type 0 and the checksum adjusted. */
    private static byte[] asReply(byte[] request) {
        byte[] reply = request.clone();
        reply[0] = 0;
        reply[2] = 0;
        reply[3] = 0;
        ByteBuffer.wrap(reply).putShort(2, (short) IcmpPacket.checksum(reply, 0, reply.length));
        return reply;
    }
}
