package io.tailprobe.agent.probe.icmp;

import com.sun.jna.Memory;
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
 * targets; one daemon platform thread blocks in {@code poll}/{@code recvmsg} (so no virtual thread's
 * carrier is pinned), timestamps each reply as it arrives and hands it to the round that sent the
 * request, matched by sequence number, source address and the send time echoed in the payload.
 *
 * <p>RTTs are taken from the kernel's own clock where it offers one, as a packet capture would see
 * them: the socket asks for receive timestamps ({@code SO_TIMESTAMPNS}), stamped when the reply
 * entered the stack, so the wake-up of the receiver thread (tens of µs on a busy host, hundreds in
 * the tail) is not counted; and for software transmit timestamps ({@code SO_TIMESTAMPING}), stamped
 * when the driver took the request, so the {@code sendto} path is not counted either. They come
 * back on the socket's error queue, keyed by the order of the sends ({@code OPT_ID}). Without a
 * transmit timestamp the send time is the real-time clock read just before {@code sendto}; without
 * a receive timestamp, or when the real-time clock was stepped in between, the monotonic clock
 * around the exchange is used. Delivering the transmit stamp costs the path a few µs (a clone of
 * the packet and a wake-up of the receiver thread); {@code -Dtailprobe.icmp.noTransmitTimestamps=true}
 * switches it off (docs/PERFORMANCE.md compares both).
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
    /** Whether the kernel stamps our requests as they leave; then sends are numbered under {@link #sendLock}. */
    private final boolean transmitTimestamps;
    private final Object sendLock = new Object();
    /** The kernel's OPT_ID of the next send: it counts sends from 0. */
    private int nextTransmitKey;
    private final Map<Integer, Pending> awaitingTransmitTimestamp = new ConcurrentHashMap<>();

    /** A request in flight, keyed by its sequence number. */
    private static final class Pending {
        final Inet4Address target;
        final long sentNanos;
        final int index;
        final BlockingQueue<Reply> replies;
        /** CLOCK_REALTIME just before sendto, set before the request can be answered. */
        volatile long sentRealtimeNanos;
        /** CLOCK_REALTIME when the driver took the request, from the error queue; 0 until then. */
        volatile long kernelSentRealtimeNanos;

        Pending(Inet4Address target, long sentNanos, int index, BlockingQueue<Reply> replies) {
            this.target = target;
            this.sentNanos = sentNanos;
            this.index = index;
            this.replies = replies;
        }
    }

    private IcmpSocket(int fd, Kind kind) {
        this.fd = fd;
        this.kind = kind;
        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_TIMESTAMPNS, new int[] {1}, Integer.BYTES) != 0) {
            LOG.warn("SO_TIMESTAMPNS on the icmp socket failed, RTTs include the receiver's wake-up: {}",
                    LibC.lastError());
        }
        int timestamping = LibC.SOF_TIMESTAMPING_TX_SOFTWARE | LibC.SOF_TIMESTAMPING_SOFTWARE
                | LibC.SOF_TIMESTAMPING_OPT_ID | LibC.SOF_TIMESTAMPING_OPT_TSONLY;
        if (Boolean.getBoolean("tailprobe.icmp.noTransmitTimestamps")) {
            this.transmitTimestamps = false;
            LOG.info("icmp transmit timestamps switched off (tailprobe.icmp.noTransmitTimestamps): RTTs include the sendto path");
        } else {
            this.transmitTimestamps =
                    LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_TIMESTAMPING, new int[] {timestamping}, Integer.BYTES) == 0;
            if (!transmitTimestamps) {
                LOG.info("SO_TIMESTAMPING on the icmp socket failed, RTTs include the sendto path: {}", LibC.lastError());
            }
        }
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
        IcmpSocket datagram = tryOpen(Kind.DATAGRAM);
        if (datagram != null) {
            return datagram;
        }
        String datagramError = LibC.lastError();
        IcmpSocket raw = tryOpen(Kind.RAW);
        if (raw != null) {
            return raw;
        }
        String rawError = LibC.lastError();
        throw new IllegalStateException(unavailableMessage(LibC.getegid(), pingGroupRange(), datagramError, rawError));
    }

    /** A new socket of this kind, or null with errno set when the kernel refuses it. */
    static IcmpSocket tryOpen(Kind kind) {
        if (kind == Kind.DATAGRAM) {
            int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM, LibC.IPPROTO_ICMP);
            return fd < 0 ? null : new IcmpSocket(fd, Kind.DATAGRAM);
        }
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_RAW, LibC.IPPROTO_ICMP);
        if (fd < 0) {
            return null;
        }
        // Only echo replies reach the socket; the kernel filters every other ICMP type.
        int[] mask = {~(1 << IcmpPacket.ECHO_REPLY)};
        if (LibC.setsockopt(fd, LibC.SOL_RAW, LibC.ICMP_FILTER, mask, Integer.BYTES) != 0) {
            LOG.warn("ICMP_FILTER on the raw icmp socket failed, filtering in Java: {}", LibC.lastError());
        }
        return new IcmpSocket(fd, Kind.RAW);
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
        private final List<Integer> transmitKeys = new ArrayList<>();

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
            long written;
            int errno = 0;
            if (transmitTimestamps) {
                synchronized (sendLock) {
                    int key = nextTransmitKey;
                    awaitingTransmitTimestamp.put(key, request);
                    request.sentRealtimeNanos = LibC.realtimeNanos();
                    written = LibC.sendto(fd, message, message.length, 0, address, address.length);
                    if (written < 0) {
                        errno = Native.getLastError();
                        awaitingTransmitTimestamp.remove(key); // refused before the kernel counted it
                    } else {
                        nextTransmitKey++;
                        transmitKeys.add(key);
                    }
                }
            } else {
                request.sentRealtimeNanos = LibC.realtimeNanos();
                written = LibC.sendto(fd, message, message.length, 0, address, address.length);
                errno = written < 0 ? Native.getLastError() : 0;
            }
            if (written < 0) {
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
            for (int key : transmitKeys) {
                awaitingTransmitTimestamp.remove(key);
            }
        }
    }

    private void receiveLoop() {
        byte[] buffer = new byte[RECEIVE_BYTES];
        byte[] from = new byte[LibC.SOCKADDR_IN_BYTES];
        ReceiveMessage message = new ReceiveMessage();
        byte[] pollFd = ByteBuffer.allocate(LibC.POLLFD_BYTES).order(ByteOrder.nativeOrder())
                .putInt(fd).putShort(LibC.POLLIN).putShort((short) 0).array();
        while (true) {
            int ready = LibC.poll(pollFd, 1, POLL_MILLIS);
            if (ready < 0 && Native.getLastError() != LibC.EINTR) {
                LOG.error("poll on the icmp socket failed, no more replies: {}", LibC.lastError());
                return;
            }
            // Transmit timestamps first: a request's is queued before its reply can exist.
            while (ready > 0 && transmitTimestamps) {
                message.reset();
                if (LibC.recvmsg(fd, message.header, LibC.MSG_ERRQUEUE | LibC.MSG_DONTWAIT) < 0) {
                    break;
                }
                int key = message.transmitTimestampKey();
                long stamp = message.transmitTimestampNanos();
                Pending request = key >= 0 && stamp > 0 ? awaitingTransmitTimestamp.remove(key) : null;
                if (request != null) {
                    request.kernelSentRealtimeNanos = stamp;
                }
            }
            while (ready > 0) {
                message.reset();
                long length = LibC.recvmsg(fd, message.header, LibC.MSG_DONTWAIT);
                long receivedNanos = System.nanoTime();
                if (length < 0) {
                    break; // drained (EAGAIN), or an error the next poll reports
                }
                int copied = (int) Math.min(length, RECEIVE_BYTES);
                message.data.read(0, buffer, 0, copied);
                message.name.read(0, from, 0, from.length);
                deliver(buffer, copied, from, receivedNanos, message.receiveTimestampNanos());
            }
        }
    }

    private void deliver(byte[] buffer, int length, byte[] from, long receivedNanos, long kernelReceivedRealtimeNanos) {
        IcmpPacket.EchoReply reply = IcmpPacket.parseReply(buffer, length, kind == Kind.RAW);
        if (reply == null || kind == Kind.RAW && reply.identifier() != identifier) {
            return; // not an echo reply, or on a raw socket another process's
        }
        Pending request = pending.get(reply.sequence());
        if (request == null || request.sentNanos != reply.sentNanos()
                || !Arrays.equals(request.target.getAddress(), Arrays.copyOfRange(from, 4, 8))
                || !pending.remove(reply.sequence(), request)) {
            strayReplies.incrementAndGet();
            return;
        }
        request.replies.add(new Reply(request.index, rttNanos(request.sentNanos, receivedNanos,
                request.sentRealtimeNanos, request.kernelSentRealtimeNanos, kernelReceivedRealtimeNanos)));
    }

    /**
     * The RTT between the kernel's stamps when there are some and they are plausible, else the
     * monotonic one. The send side is the driver's transmit stamp if it lies between the clock read
     * before {@code sendto} and the reply, else that clock read; the result must be positive and not
     * longer than what the monotonic clock saw around it (a step of the real-time clock would do that).
     *
     * @param kernelSentRealtimeNanos 0 or less: no transmit timestamp
     * @param kernelReceivedRealtimeNanos 0 or less: no receive timestamp
     */
    static long rttNanos(long sentNanos, long receivedNanos, long sentRealtimeNanos, long kernelSentRealtimeNanos,
                         long kernelReceivedRealtimeNanos) {
        long monotonicNanos = receivedNanos - sentNanos;
        if (kernelReceivedRealtimeNanos <= 0 || sentRealtimeNanos <= 0) {
            return monotonicNanos;
        }
        boolean transmitStampPlausible = kernelSentRealtimeNanos >= sentRealtimeNanos
                && kernelSentRealtimeNanos < kernelReceivedRealtimeNanos;
        long sentAt = transmitStampPlausible ? kernelSentRealtimeNanos : sentRealtimeNanos;
        long kernelNanos = kernelReceivedRealtimeNanos - sentAt;
        return kernelNanos > 0 && kernelNanos <= monotonicNanos ? kernelNanos : monotonicNanos;
    }

    /**
     * A {@code struct msghdr} for {@code recvmsg} with its buffers, in native memory reused for every
     * reply (LP64 layout: name, namelen, iov, iovlen, control, controllen, flags).
     */
    private static final class ReceiveMessage {
        private static final int MSGHDR_BYTES = 56;
        private static final int IOVEC_BYTES = 16;
        private static final int CMSG_HEADER_BYTES = 16;
        private static final int CONTROL_BYTES = 128;
        final Memory header = new Memory(MSGHDR_BYTES);
        final Memory name = new Memory(LibC.SOCKADDR_IN_BYTES);
        final Memory data = new Memory(RECEIVE_BYTES);
        final Memory control = new Memory(CONTROL_BYTES);
        private final Memory iovec = new Memory(IOVEC_BYTES);

        ReceiveMessage() {
            iovec.setPointer(0, data);
            iovec.setLong(8, RECEIVE_BYTES);
            header.clear();
            header.setPointer(0, name);
            header.setPointer(16, iovec);
            header.setLong(24, 1);
            header.setPointer(32, control);
        }

        /** Restores the lengths recvmsg overwrites. */
        void reset() {
            header.setInt(8, LibC.SOCKADDR_IN_BYTES);
            header.setLong(40, CONTROL_BYTES);
            header.setInt(48, 0);
        }

        /** The SCM_TIMESTAMPNS of the last message in ns since the epoch, or -1 without one. */
        long receiveTimestampNanos() {
            long data = controlData(LibC.SOL_SOCKET, LibC.SO_TIMESTAMPNS, 16);
            return data < 0 ? -1 : timespecNanos(data);
        }

        /** The software stamp (the first of three timespecs) of an error-queue entry, or -1. */
        long transmitTimestampNanos() {
            long data = controlData(LibC.SOL_SOCKET, LibC.SO_TIMESTAMPING, 48);
            return data < 0 ? -1 : timespecNanos(data);
        }

        /** The OPT_ID of a timestamping error-queue entry ({@code ee_data}), or -1. */
        int transmitTimestampKey() {
            long data = controlData(LibC.SOL_IP, LibC.IP_RECVERR, 16);
            if (data < 0 || (control.getByte(data + 4) & 0xff) != LibC.SO_EE_ORIGIN_TIMESTAMPING) {
                return -1;
            }
            return control.getInt(data + 12);
        }

        private long timespecNanos(long offset) {
            long nanos = control.getLong(offset) * 1_000_000_000L + control.getLong(offset + 8);
            return nanos > 0 ? nanos : -1;
        }

        /** The offset of the data of the control message {@code level}/{@code type}, or -1. */
        private long controlData(int level, int type, int minDataBytes) {
            long controlLength = header.getLong(40);
            long offset = 0;
            while (offset + CMSG_HEADER_BYTES <= controlLength) {
                long length = control.getLong(offset);
                if (length < CMSG_HEADER_BYTES) {
                    return -1;
                }
                if (control.getInt(offset + 8) == level && control.getInt(offset + 12) == type
                        && length >= CMSG_HEADER_BYTES + minDataBytes) {
                    return offset + CMSG_HEADER_BYTES;
                }
                offset += (length + 7) & ~7L;
            }
            return -1;
        }
    }

    /** A {@code struct sockaddr_in} for {@code target}: family in host order, port 0, address. */
    static byte[] sockaddrIn(Inet4Address target) {
        ByteBuffer buffer = ByteBuffer.allocate(LibC.SOCKADDR_IN_BYTES);
        buffer.order(ByteOrder.nativeOrder()).putShort((short) LibC.AF_INET);
        buffer.order(ByteOrder.BIG_ENDIAN).putShort((short) 0).put(target.getAddress());
        return buffer.array();
    }
}
