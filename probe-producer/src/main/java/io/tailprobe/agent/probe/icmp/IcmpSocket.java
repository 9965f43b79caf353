package io.tailprobe.agent.probe.icmp;

import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.NoRouteToHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one ICMPv4 socket, shared by every icmp target. Sequence numbers are unique across
 * targets; one daemon platform thread blocks in {@code poll}/{@code recvfrom} (so no virtual thread's
 * carrier is pinned), timestamps each reply as it arrives and hands it to the round that sent the
 * request, matched by sequence number, source address and the send time echoed in the payload.
 *
 * <p>The socket is an unprivileged ICMP datagram socket when {@code net.ipv4.ping_group_range}
 * includes the process's group (the kernel then sets the identifier to the socket's port, delivers
 * only this socket's replies, without the IP header), else a raw socket, which needs CAP_NET_RAW and
 * sees every echo reply on the host, so replies are filtered by our identifier. With 200 targets at
 * 5 packets a second, about 1000 replies a second pass through the one receiver thread.
 */
public final class IcmpSocket implements Pinger {
    private static final Logger LOG = LoggerFactory.getLogger(IcmpSocket.class);
    private static final Path PING_GROUP_RANGE = Path.of("/proc/sys/net/ipv4/ping_group_range");
    private static final int POLL_MILLIS = 500;
    /** The largest IPv4 datagram. */
    private static final int RECEIVE_BYTES = 65_535;

    /** How the socket was opened. */
    public enum Kind {
        /** {@code SOCK_DGRAM, IPPROTO_ICMP}: allowed by net.ipv4.ping_group_range. */
        DATAGRAM,
        /** {@code SOCK_RAW, IPPROTO_ICMP}: needs CAP_NET_RAW. */
        RAW
    }

    private static IcmpSocket shared;

    private final int fd;
    private final Kind kind;
    private final int identifier;
    private final AtomicInteger nextSequence = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 16));
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger strayReplies = new AtomicInteger();

    /** A request in flight, keyed by its sequence number. */
    private record Pending(Inet4Address target, long sentNanos, int index, BlockingQueue<Reply> replies) {}

    private IcmpSocket(int fd, Kind kind) {
        this.fd = fd;
        this.kind = kind;
        this.identifier = ThreadLocalRandom.current().nextInt(1, 1 << 16);
        Thread receiver = Thread.ofPlatform().daemon().name("icmp-receiver").unstarted(this::receiveLoop);
        receiver.start();
    }

    /**
     * The agent's socket, opened on first use: a datagram socket if allowed, else a raw one.
     *
     * @throws IllegalStateException when neither can be opened, with a message naming the sysctl
     *     and the capability that would allow one
     */
    public static synchronized IcmpSocket shared() {
        if (shared == null) {
            shared = open();
        }
        return shared;
    }

    private static IcmpSocket open() {
        Throwable loadFailure = LibC.loadFailure();
        if (loadFailure != null) {
            throw new IllegalStateException("icmp probes need Linux with libc reachable through JNA: " + loadFailure);
        }
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM, LibC.IPPROTO_ICMP);
        if (fd >= 0) {
            return new IcmpSocket(fd, Kind.DATAGRAM);
        }
        String datagramError = LibC.lastError();
        fd = LibC.socket(LibC.AF_INET, LibC.SOCK_RAW, LibC.IPPROTO_ICMP);
        if (fd >= 0) {
            // Only echo replies reach the socket; the kernel filters every other ICMP type.
            int[] mask = {~(1 << IcmpPacket.ECHO_REPLY)};
            if (LibC.setsockopt(fd, LibC.SOL_RAW, LibC.ICMP_FILTER, mask, Integer.BYTES) != 0) {
                LOG.warn("ICMP_FILTER on the raw icmp socket failed, filtering in Java: {}", LibC.lastError());
            }
            return new IcmpSocket(fd, Kind.RAW);
        }
        String rawError = LibC.lastError();
        throw new IllegalStateException(unavailableMessage(LibC.getegid(), pingGroupRange(), datagramError, rawError));
    }

    /**
     * Why no ICMP socket could be opened, e.g. {@code needs either net.ipv4.ping_group_range to
     * include group 1000 (now "1 0") or CAP_NET_RAW (…)}, followed by the two errors.
     */
    static String unavailableMessage(int groupId, String pingGroupRange, String datagramError, String rawError) {
        return "needs either net.ipv4.ping_group_range to include group " + groupId + " (now \"" + pingGroupRange
                + "\") or CAP_NET_RAW (run as root or setcap cap_net_raw+ep on java); datagram socket: "
                + datagramError + ", raw socket: " + rawError;
    }

    /** The sysctl as "low high", e.g. {@code 1 0} (no group). */
    static String pingGroupRange() {
        // Read as a stream: procfs reports a size of 0, which Files.readString can take for empty.
        try (InputStream in = Files.newInputStream(PING_GROUP_RANGE)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip().replaceAll("\\s+", " ");
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    public Kind kind() {
        return kind;
    }

    /** Replies that matched no request in flight (late, duplicate, or another process's on a raw socket). */
    int strayReplies() {
        return strayReplies.get();
    }

    @Override
    public Exchange begin(Inet4Address target) {
        return new SocketExchange(target);
    }

    private final class SocketExchange implements Exchange {
        private final Inet4Address target;
        private final byte[] address;
        private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        private final List<Integer> sequences = new ArrayList<>();

        SocketExchange(Inet4Address target) {
            this.target = target;
            this.address = sockaddrIn(target);
        }

        @Override
        public void send(int index, int payloadBytes) throws IOException {
            int sequence;
            long sentNanos = System.nanoTime();
            Pending request = new Pending(target, sentNanos, index, replies);
            do {
                sequence = nextSequence.getAndIncrement() & 0xffff;
            } while (pending.putIfAbsent(sequence, request) != null);
            sequences.add(sequence);
            byte[] message = IcmpPacket.echoRequest(identifier, sequence, sentNanos, payloadBytes);
            long written = LibC.sendto(fd, message, message.length, 0, address, address.length);
            if (written < 0) {
                int errno = Native.getLastError();
                pending.remove(sequence);
                String error = LibC.describe(errno);
                throw errno == LibC.ENETUNREACH || errno == LibC.EHOSTUNREACH
                        ? new NoRouteToHostException(error) : new IOException(error);
            }
        }

        @Override
        public Reply poll(long timeoutNanos) throws InterruptedException {
            return replies.poll(timeoutNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void close() {
            for (int sequence : sequences) {
                pending.remove(sequence);
            }
        }
    }

    private void receiveLoop() {
        byte[] buffer = new byte[RECEIVE_BYTES];
        byte[] from = new byte[LibC.SOCKADDR_IN_BYTES];
        int[] fromLength = new int[1];
        byte[] pollFd = ByteBuffer.allocate(LibC.POLLFD_BYTES).order(ByteOrder.nativeOrder())
                .putInt(fd).putShort(LibC.POLLIN).putShort((short) 0).array();
        while (true) {
            int ready = LibC.poll(pollFd, 1, POLL_MILLIS);
            if (ready < 0 && Native.getLastError() != LibC.EINTR) {
                LOG.error("poll on the icmp socket failed, no more replies: {}", LibC.lastError());
                return;
            }
            while (ready > 0) {
                fromLength[0] = from.length;
                long length = LibC.recvfrom(fd, buffer, buffer.length, LibC.MSG_DONTWAIT, from, fromLength);
                long receivedNanos = System.nanoTime();
                if (length < 0) {
                    break; // drained (EAGAIN), or an error the next poll reports
                }
                deliver(buffer, (int) length, from, receivedNanos);
            }
        }
    }

    private void deliver(byte[] buffer, int length, byte[] from, long receivedNanos) {
        IcmpPacket.EchoReply reply = IcmpPacket.parseReply(buffer, length, kind == Kind.RAW);
        if (reply == null || kind == Kind.RAW && reply.identifier() != identifier) {
            return; // not an echo reply, or on a raw socket another process's
        }
        Pending request = pending.get(reply.sequence());
        if (request == null || request.sentNanos() != reply.sentNanos()
                || !Arrays.equals(request.target().getAddress(), Arrays.copyOfRange(from, 4, 8))
                || !pending.remove(reply.sequence(), request)) {
            strayReplies.incrementAndGet();
            return;
        }
        request.replies().add(new Reply(request.index(), receivedNanos - request.sentNanos()));
    }

    /** A {@code struct sockaddr_in} for {@code target}: family in host order, port 0, address. */
    static byte[] sockaddrIn(Inet4Address target) {
        ByteBuffer buffer = ByteBuffer.allocate(LibC.SOCKADDR_IN_BYTES);
        buffer.order(ByteOrder.nativeOrder()).putShort((short) LibC.AF_INET);
        buffer.order(ByteOrder.BIG_ENDIAN).putShort((short) 0).put(target.getAddress());
        return buffer.array();
    }
}
