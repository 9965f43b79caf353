package io.tailprobe.agent.probe.udp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * A loopback UDP relay in front of a real {@link UdpEchoResponder} that tampers with the echoes on
 * their way back: it forwards each probe packet, waits for its echo, and passes the echo through a
 * {@link Policy} that may drop or hold it. Packets are handled one at a time, so what the probe sees is
 * deterministic.
 */
final class ReplyRelay implements AutoCloseable {
    /** Decides which echoes go back to the probe now, given the echo of packet {@code sequence}. */
    @FunctionalInterface
    interface Policy {
        List<ByteBuffer> onEcho(int sequence, ByteBuffer echo);
    }

    private final DatagramChannel front;
    private final DatagramChannel back;
    private final Thread thread;

    private ReplyRelay(InetSocketAddress upstream, Policy policy) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        front = DatagramChannel.open().bind(new InetSocketAddress(loopback, 0));
        back = DatagramChannel.open().bind(new InetSocketAddress(loopback, 0)).connect(upstream);
        thread = Thread.ofVirtual().name("reply-relay").start(() -> relay(policy));
    }

    /** Drops the echo of every odd sequence number. */
    static ReplyRelay droppingOddSequences(InetSocketAddress upstream) {
        return start(upstream, (sequence, echo) -> sequence % 2 == 1 ? List.of() : List.of(echo));
    }

    /** Holds the echo of {@code first} until the echo of {@code second} has gone back. */
    static ReplyRelay swapping(InetSocketAddress upstream, int first, int second) {
        List<ByteBuffer> held = new ArrayList<>();
        return start(upstream, (sequence, echo) -> {
            if (sequence == first) {
                held.add(echo);
                return List.of();
            }
            if (sequence == second) {
                List<ByteBuffer> out = new ArrayList<>(List.of(echo));
                out.addAll(held);
                held.clear();
                return out;
            }
            return List.of(echo);
        });
    }

    private static ReplyRelay start(InetSocketAddress upstream, Policy policy) {
        try {
            return new ReplyRelay(upstream, policy);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the probe sends, e.g. {@code 127.0.0.1:40123}. */
    String address() {
        try {
            return "127.0.0.1:" + ((InetSocketAddress) front.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void relay(Policy policy) {
        try {
            while (true) {
                ByteBuffer packet = ByteBuffer.allocate(65_507);
                SocketAddress prober = front.receive(packet);
                back.write(packet.flip());
                ByteBuffer echo = ByteBuffer.allocate(65_507);
                back.read(echo);
                echo.flip();
                for (ByteBuffer out : policy.onEcho(EchoPacket.sequence(echo), echo)) {
                    front.send(out, prober);
                }
            }
        } catch (IOException closed) {
            // close() stopped the relay
        }
    }

    @Override
    public void close() throws Exception {
        front.close();
        back.close();
        thread.join();
    }
}
