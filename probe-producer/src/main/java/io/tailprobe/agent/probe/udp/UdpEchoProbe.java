package io.tailprobe.agent.probe.udp;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.HostPort;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends a round of {@code udp.packets} datagrams to a {@link UdpEchoResponder} and times each echo,
 * like a short ping over UDP. A virtual thread sends the round back to back while the probing thread
 * reads replies, so a reply is timestamped when it arrives, not after the last send. Replies are
 * matched by round id and sequence number ({@link EchoPacket}); the round ends when every reply is in
 * or the timeout passes. One {@link DatagramChannel} serves the target for the probe's lifetime.
 *
 * <p>A round yields one sample: OK when any reply came back (TIMEOUT when none), the packets sent,
 * received and reordered (a reply that arrives after the reply of a later packet), and the round's
 * latency: the median RTT of the received packets ({@link Round#medianRttNanos()}), which the pacer
 * records as the sample's service time. Loss is {@code sent - received}.
 *
 * <p>Example: 5 packets of 64 bytes to a peer on the LAN whose RTTs are 140, 150, 160, 180 and 900 µs
 * give a latency of 160 µs; if the 900 µs one is lost instead, the median of the other four is 155 µs
 * and the round waits out the timeout for the missing reply.
 */
public final class UdpEchoProbe implements Probe {
    public static final String TYPE = "udp";
    public static final String PROTOCOL = "udp";
    public static final int DEFAULT_PACKETS = 5;
    public static final int MAX_PACKETS = 1_000;
    public static final int DEFAULT_PAYLOAD_BYTES = 64;
    public static final int MIN_PAYLOAD_BYTES = EchoPacket.HEADER_BYTES;
    /** The largest UDP payload over IPv4. */
    public static final int MAX_PAYLOAD_BYTES = 65_507;
    /** Reads wake at least this often, so a round whose sends failed does not wait out the whole timeout. */
    private static final long READ_SLICE_NANOS = Duration.ofMillis(20).toNanos();

    /**
     * One round as measured, with what the sample schema holds beyond {@link ProbeResult}.
     *
     * @param rttNanos the RTT of each received packet, in arrival order
     * @param medianRttNanos the median of {@code rttNanos}, null when nothing came back
     */
    public record Round(ProbeResult result, int packetsSent, int packetsReceived, int packetsReordered,
                        List<Long> rttNanos, Long medianRttNanos) {
        public Round {
            rttNanos = List.copyOf(rttNanos);
        }

        public int packetsLost() {
            return packetsSent - packetsReceived;
        }
    }

    private final String host;
    private final int port;
    private final String address;
    private final Duration timeout;
    private final int packets;
    private final int payloadBytes;
    private DatagramChannel channel;
    private int nextRoundId = ThreadLocalRandom.current().nextInt();

    public UdpEchoProbe(String host, int port, Duration timeout, int packets, int payloadBytes) {
        this.host = Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
        }
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be > 0, got " + Durations.format(timeout));
        }
        if (packets < 1 || packets > MAX_PACKETS) {
            throw new IllegalArgumentException("udp.packets must be in [1, " + MAX_PACKETS + "], got " + packets);
        }
        if (payloadBytes < MIN_PAYLOAD_BYTES || payloadBytes > MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("udp.payloadBytes must be in [" + MIN_PAYLOAD_BYTES + ", "
                    + MAX_PAYLOAD_BYTES + "], got " + payloadBytes);
        }
        this.port = port;
        this.address = HostPort.format(host, port);
        this.timeout = timeout;
        this.packets = packets;
        this.payloadBytes = payloadBytes;
    }

    /** Builds the probe of a configured target; messages start with the offending key. */
    public static UdpEchoProbe fromConfig(AgentConfig.Target target, Duration timeout) {
        String address = target.address();
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is required (the echo responder as host:port)");
        }
        if (target.send() != null || target.expect() != null) {
            throw new IllegalArgumentException((target.send() != null ? "send" : "expect")
                    + " is not used by udp targets (they send udp.packets echo packets of udp.payloadBytes)");
        }
        HostPort parsed = HostPort.require(address);
        String host = parsed.host();
        int port = parsed.port();
        AgentConfig.UdpOptions options = target.udp();
        int packets = options == null || options.packets() == null ? DEFAULT_PACKETS : options.packets();
        int payloadBytes = options == null || options.payloadBytes() == null
                ? DEFAULT_PAYLOAD_BYTES : options.payloadBytes();
        return new UdpEchoProbe(host, port, timeout, packets, payloadBytes);
    }


    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public ProbeResult probe() throws InterruptedException {
        Round round = round();
        return round.result().withPackets(round.packetsSent(), round.packetsReceived(), round.packetsReordered())
                .withLatencyNanos(round.medianRttNanos());
    }

    /** Runs one round: sends the packets and collects echoes until all are in or the timeout passes. */
    public Round round() throws InterruptedException {
        int roundId = nextRoundId++;
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        PhaseTimings.Builder phases = PhaseTimings.newBuilder();

        InetAddress ip;
        try {
            ip = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            phases.setDnsNanos(System.nanoTime() - start);
            return failed(Outcome.DNS_ERROR, address, phases, 0, "cannot resolve " + host);
        }
        phases.setDnsNanos(System.nanoTime() - start);
        InetSocketAddress peer = new InetSocketAddress(ip, port);
        String probed = HostPort.format(ip.getHostAddress(), port);

        DatagramChannel open;
        try {
            open = channel();
        } catch (IOException e) {
            return failed(Outcome.IO_ERROR, probed, phases, 0, "open a UDP socket: " + describe(e));
        }

        AtomicInteger sent = new AtomicInteger();
        AtomicReference<IOException> sendFailure = new AtomicReference<>();
        Thread sender = Thread.ofVirtual().name("udp-send-" + probed).start(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(payloadBytes);
            try {
                for (int sequence = 0; sequence < packets; sequence++) {
                    open.send(EchoPacket.write(buffer, roundId, sequence, System.nanoTime(), payloadBytes), peer);
                    sent.incrementAndGet();
                }
            } catch (IOException e) {
                sendFailure.set(e);
            }
        });

        boolean[] seen = new boolean[packets];
        List<Long> rtts = new ArrayList<>(packets);
        int reordered = 0;
        int highestSequence = -1;
        // One byte more than a packet, so an echo that grew is recognised as not ours.
        DatagramPacket reply = new DatagramPacket(new byte[payloadBytes + 1], payloadBytes + 1);
        try {
            DatagramSocket socket = open.socket();
            while (rtts.size() < packets) {
                long now = System.nanoTime();
                if (now >= deadline || !sender.isAlive() && rtts.size() >= sent.get()) {
                    break;
                }
                socket.setSoTimeout(Math.max(1, (int) ((Math.min(deadline - now, READ_SLICE_NANOS) + 999_999) / 1_000_000)));
                reply.setLength(payloadBytes + 1);
                try {
                    socket.receive(reply);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                long receivedAt = System.nanoTime();
                ByteBuffer data = ByteBuffer.wrap(reply.getData(), 0, reply.getLength());
                if (reply.getLength() != payloadBytes || !EchoPacket.isEchoPacket(data)
                        || EchoPacket.roundId(data) != roundId) {
                    continue; // a stray datagram or a late echo of an earlier round
                }
                int sequence = EchoPacket.sequence(data);
                long rtt = receivedAt - EchoPacket.sentNanos(data);
                if (sequence >= packets || seen[sequence] || rtt <= 0 || rtt > receivedAt - start) {
                    continue; // a duplicate, or a corrupt header whose send time cannot be ours
                }
                seen[sequence] = true;
                rtts.add(rtt);
                if (sequence < highestSequence) {
                    reordered++;
                }
                highestSequence = Math.max(highestSequence, sequence);
            }
        } catch (IOException e) {
            sender.join();
            if (Thread.interrupted()) {
                throw new InterruptedException("udp probe of " + probed + " interrupted");
            }
            closeChannel();
            return failed(Outcome.IO_ERROR, probed, phases, sent.get(), "read echoes from " + probed + ": " + describe(e));
        }
        sender.join();

        int sentCount = sent.get();
        if (rtts.isEmpty()) {
            IOException failure = sendFailure.get();
            if (failure != null) {
                return failed(classify(failure), probed, phases, sentCount, "send to " + probed + ": " + describe(failure));
            }
            return failed(Outcome.TIMEOUT, probed, phases, sentCount, "no echo from " + probed + " of "
                    + sentCount + " packets within the probe timeout " + Durations.format(timeout));
        }
        long median = median(rtts);
        ProbeResult result = new ProbeResult(Outcome.OK, probed, phases.build(), null, null, null);
        return new Round(result, sentCount, rtts.size(), reordered, rtts, median);
    }

    /** The middle RTT, or the mean of the two middle ones for an even count. */
    static long median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : sorted[middle - 1] + (sorted[middle] - sorted[middle - 1]) / 2;
    }

    static Outcome classify(IOException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (e instanceof NoRouteToHostException || message.contains("unreachable") || message.contains("no route")
                || message.contains("host is down")) {
            return Outcome.UNREACHABLE;
        }
        return Outcome.IO_ERROR;
    }

    private Round failed(Outcome outcome, String probed, PhaseTimings.Builder phases, int sentCount, String detail) {
        return new Round(new ProbeResult(outcome, probed, phases.build(), null, null, detail),
                sentCount, 0, 0, List.of(), null);
    }

    /** The target's channel, opened on first use and again after a failure closed it. */
    private DatagramChannel channel() throws IOException {
        if (channel == null || !channel.isOpen()) {
            DatagramChannel opened = DatagramChannel.open();
            try {
                opened.bind(null);
            } catch (IOException e) {
                opened.close();
                throw e;
            }
            channel = opened;
        }
        return channel;
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the next round opens a new one
            }
        }
    }

    /** Releases the target's socket; a later {@link #probe()} opens a new one. */
    @Override
    public void close() {
        closeChannel();
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }


    @Override
    public String toString() {
        return "UdpEchoProbe[" + address + ", " + packets + " x " + payloadBytes + " bytes, timeout "
                + Durations.format(timeout) + "]";
    }
}
