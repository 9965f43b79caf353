package io.tailprobe.agent.probe.icmp;

import java.nio.ByteBuffer;

/**
 * ICMP echo messages (RFC 792), big-endian: type, code, checksum, identifier, sequence, then the
 * payload, whose first 8 bytes are the sender's {@link System#nanoTime()} and the rest a fixed
 * pattern, as ping does:
 *
 * <pre>
 * offset 0  type        1 byte   8 request, 0 reply
 * offset 1  code        1 byte   0
 * offset 2  checksum    2 bytes  one's complement sum of the message
 * offset 4  identifier  2 bytes  ours (raw sockets); the socket's port (datagram sockets, set by the kernel)
 * offset 6  sequence    2 bytes  unique across the targets sharing the socket
 * offset 8  sent nanos  8 bytes  then pattern bytes up to the payload size
 * </pre>
 */
final class IcmpPacket {
    static final int ECHO_REPLY = 0;
    static final int ECHO_REQUEST = 8;
    static final int HEADER_BYTES = 8;
    static final int TIMESTAMP_BYTES = 8;

    /**
     * An echo reply as received.
     *
     * @param sentNanos the send time carried in the payload
     */
    record EchoReply(int identifier, int sequence, long sentNanos) {}

    private IcmpPacket() {}

    /** An echo request with a payload of {@code payloadBytes} (>= {@link #TIMESTAMP_BYTES}), checksum set. */
    static byte[] echoRequest(int identifier, int sequence, long sentNanos, int payloadBytes) {
        byte[] message = new byte[HEADER_BYTES + payloadBytes];
        ByteBuffer buffer = ByteBuffer.wrap(message);
        buffer.put((byte) ECHO_REQUEST).put((byte) 0).putShort((short) 0)
                .putShort((short) identifier).putShort((short) sequence).putLong(sentNanos);
        for (int i = HEADER_BYTES + TIMESTAMP_BYTES; i < message.length; i++) {
            message[i] = (byte) i;
        }
        buffer.putShort(2, (short) checksum(message, 0, message.length));
        return message;
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes; 0 when run over a message that carries a correct one. */
    static int checksum(byte[] data, int offset, int length) {
        long sum = 0;
        int end = offset + length;
        int i = offset;
        for (; i + 1 < end; i += 2) {
            sum += ((data[i] & 0xff) << 8) | (data[i + 1] & 0xff);
        }
        if (i < end) {
            sum += (data[i] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /**
     * Reads an echo reply, or null for anything else (our own requests seen on loopback, other ICMP
     * types, truncated or corrupt messages).
     *
     * @param withIpHeader raw sockets deliver the IPv4 header first; datagram sockets do not
     */
    static EchoReply parseReply(byte[] data, int length, boolean withIpHeader) {
        int start = 0;
        if (withIpHeader) {
            if (length < 20 || (data[0] & 0xf0) != 0x40) {
                return null;
            }
            start = (data[0] & 0x0f) * 4;
        }
        if (length - start < HEADER_BYTES + TIMESTAMP_BYTES || data[start] != ECHO_REPLY || data[start + 1] != 0) {
            return null;
        }
        // Datagram sockets have the kernel verify the checksum; on raw ones a corrupt reply is dropped here.
        if (withIpHeader && checksum(data, start, length - start) != 0) {
            return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(data, start, length - start);
        buffer.position(start + 4);
        int identifier = buffer.getShort() & 0xffff;
        int sequence = buffer.getShort() & 0xffff;
        return new EchoReply(identifier, sequence, buffer.getLong());
    }
}
