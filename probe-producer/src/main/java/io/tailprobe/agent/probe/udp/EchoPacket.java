package io.tailprobe.agent.probe.udp;

import java.nio.ByteBuffer;

/**
 * The wire format shared by {@link UdpEchoProbe} and {@link UdpEchoResponder}, big-endian, 16 bytes
 * of header then zero padding up to the configured payload size:
 *
 * <pre>
 * offset 0  magic       2 bytes  'T' 'P'
 * offset 2  round id    4 bytes  per probe, increasing, so late replies of an earlier round are ignored
 * offset 6  sequence    2 bytes  0 .. packets-1 within the round
 * offset 8  sent nanos  8 bytes  the prober's System.nanoTime() when it sent the packet
 * </pre>
 *
 * <p>The responder echoes the datagram unchanged, so the prober computes each RTT from the echoed send
 * time alone and needs no table of outstanding packets.
 */
final class EchoPacket {
    static final short MAGIC = (short) 0x5450;
    static final int HEADER_BYTES = 16;

    private EchoPacket() {}

    /** Writes a packet of {@code payloadBytes} (>= {@link #HEADER_BYTES}) into {@code buffer}, ready to send. */
    static ByteBuffer write(ByteBuffer buffer, int roundId, int sequence, long sentNanos, int payloadBytes) {
        buffer.clear();
        buffer.putShort(MAGIC).putInt(roundId).putShort((short) sequence).putLong(sentNanos);
        while (buffer.position() < payloadBytes) {
            buffer.put((byte) 0);
        }
        return buffer.flip();
    }

    /** True when the datagram between position and limit starts like a Tailprobe echo packet. */
    static boolean isEchoPacket(ByteBuffer packet) {
        return packet.remaining() >= HEADER_BYTES && packet.getShort(packet.position()) == MAGIC;
    }

    static int roundId(ByteBuffer packet) {
        return packet.getInt(packet.position() + 2);
    }

    static int sequence(ByteBuffer packet) {
        return Short.toUnsignedInt(packet.getShort(packet.position() + 6));
    }

    static long sentNanos(ByteBuffer packet) {
        return packet.getLong(packet.position() + 8);
    }
}
