package io.tailprobe.agent.probe.icmp;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Pings a host: a round of {@code packets} ICMP echo requests sent back to back through the agent's
 * shared {@link IcmpSocket}, whose receiver thread timestamps each reply as it arrives. The round
 * ends when every reply is in or the timeout passes. IPv4 only.
 *
 * <p>A round yields one sample, like {@link io.tailprobe.agent.probe.udp.UdpEchoProbe}: OK when any
 * reply came back (TIMEOUT when none), the packets sent, received and reordered (a reply that arrives
 * after the reply of a later packet), and the round's latency: the median RTT of the received
 * packets, which the pacer records as the sample's service time. Loss is {@code sent - received}.
 *
 * <p>Example: 5 packets of 56 bytes to a router whose RTTs are 310, 320, 330, 350 and 2100 µs give
 * a latency of 330 µs; if the 2100 µs one is lost instead, the median of the other four is 325 µs and
 * the round waits out the timeout for the missing reply.
 */
public final class IcmpProbe implements Probe {
    public static final String TYPE = "icmp";
    public static final String PROTOCOL = "icmp";
    public static final int DEFAULT_PACKETS = 5;
    public static final int MAX_PACKETS = 1_000;
    /** As ping's default: 64 bytes of ICMP message. */
    public static final int DEFAULT_PAYLOAD_BYTES = 56;
    public static final int MIN_PAYLOAD_BYTES = IcmpPacket.TIMESTAMP_BYTES;
    /** The largest ICMP payload over IPv4: 65535 - 20 (IP header) - 8 (ICMP header). */
    public static final int MAX_PAYLOAD_BYTES = 65_507;
    /** A host name or an IPv4 address; no port, no scheme, no path. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?\\.?");

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
    private final Duration timeout;
    private final int packets;
    private final int payloadBytes;
    private final Supplier<? extends Pinger> pinger;

    /**
     * @param pinger the socket, asked for on every round; {@link IcmpSocket#shared()} in the agent
     */
    IcmpProbe(String host, Duration timeout, int packets, int payloadBytes, Supplier<? extends Pinger> pinger) {
        this.host = Objects.requireNonNull(host, "host");
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be > 0, got " + Durations.format(timeout));
        }
        if (packets < 1 || packets > MAX_PACKETS) {
            throw new IllegalArgumentException("icmp.packets must be in [1, " + MAX_PACKETS + "], got " + packets);
        }
        if (payloadBytes < MIN_PAYLOAD_BYTES || payloadBytes > MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("icmp.payloadBytes must be in [" + MIN_PAYLOAD_BYTES + ", "
                    + MAX_PAYLOAD_BYTES + "], got " + payloadBytes);
        }
        this.timeout = timeout;
        this.packets = packets;
        this.payloadBytes = payloadBytes;
        this.pinger = Objects.requireNonNull(pinger, "pinger");
    }

    /**
     * Builds the probe of a configured target and opens the agent's ICMP socket if it is not open yet,
     * so a host that allows no ICMP socket fails at start-up; messages start with the offending key.
     */
    public static IcmpProbe fromConfig(AgentConfig.Target target, Duration timeout) {
        AgentConfig.IcmpOptions options = target.icmp();
        return fromConfig(target, timeout, options == null ? null : options.packets(),
                options == null ? null : options.payloadBytes());
    }

    /** As {@link #fromConfig(AgentConfig.Target, Duration)} with the {@code icmp.packets} and {@code icmp.payloadBytes} options, null for the defaults. */
    static IcmpProbe fromConfig(AgentConfig.Target target, Duration timeout, Integer packets, Integer payloadBytes) {
        String address = target.address();
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is required (the host or IPv4 address to ping)");
        }
        if (!HOST.matcher(address).matches()) {
            throw new IllegalArgumentException("address must be a host or IPv4 address (no port), got \"" + address + "\"");
        }
        if (target.send() != null || target.expect() != null) {
            throw new IllegalArgumentException((target.send() != null ? "send" : "expect")
                    + " is not used by icmp targets (they send icmp.packets echo requests of icmp.payloadBytes)");
        }
        IcmpProbe probe = new IcmpProbe(address, timeout, packets == null ? DEFAULT_PACKETS : packets,
                payloadBytes == null ? DEFAULT_PAYLOAD_BYTES : payloadBytes, IcmpSocket::shared);
        try {
            IcmpSocket.shared();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("type \"" + TYPE + "\" " + e.getMessage(), e);
        }
        return probe;
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
        return host;
    }

    @Override
    public ProbeResult probe() throws InterruptedException {
        Round round = round();
        return round.result().withPackets(round.packetsSent(), round.packetsReceived(), round.packetsReordered())
                .withLatencyNanos(round.medianRttNanos());
    }

    /** Runs one round: sends the requests and collects replies until all are in or the timeout passes. */
    public Round round() throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        PhaseTimings.Builder phases = PhaseTimings.newBuilder();

        Inet4Address ip;
        try {
            ip = resolve(host);
        } catch (UnknownHostException e) {
            phases.setDnsNanos(System.nanoTime() - start);
            return failed(Outcome.DNS_ERROR, host, phases, 0, e.getMessage());
        }
        phases.setDnsNanos(System.nanoTime() - start);
        String probed = ip.getHostAddress();

        Pinger socket;
        try {
            socket = pinger.get();
        } catch (IllegalStateException e) {
            return failed(Outcome.IO_ERROR, probed, phases, 0, "open an ICMP socket: " + e.getMessage());
        }
        int sent = 0;
        IOException sendFailure = null;
        boolean[] seen = new boolean[packets];
        List<Long> rtts = new ArrayList<>(packets);
        int reordered = 0;
        int highestIndex = -1;
        try (Pinger.Exchange exchange = socket.begin(ip)) {
            for (; sent < packets; sent++) {
                try {
                    exchange.send(sent, payloadBytes);
                } catch (IOException e) {
                    sendFailure = e;
                    break;
                }
            }
            while (rtts.size() < sent) {
                long remaining = deadline - System.nanoTime();
                Pinger.Reply reply = remaining > 0 ? exchange.poll(remaining) : null;
                if (reply == null) {
                    break;
                }
                int index = reply.index();
                if (index < 0 || index >= sent || seen[index] || reply.rttNanos() <= 0) {
                    continue; // a duplicate, or a reply no request of this round can have caused
                }
                seen[index] = true;
                rtts.add(reply.rttNanos());
                if (index < highestIndex) {
                    reordered++;
                }
                highestIndex = Math.max(highestIndex, index);
            }
        }

        if (rtts.isEmpty()) {
            if (sendFailure != null) {
                Outcome outcome = sendFailure instanceof NoRouteToHostException ? Outcome.UNREACHABLE : Outcome.IO_ERROR;
                return failed(outcome, probed, phases, sent, "send to " + probed + ": " + sendFailure.getMessage());
            }
            return failed(Outcome.TIMEOUT, probed, phases, sent, "no echo reply from " + probed + " to "
                    + sent + " packets within the probe timeout " + Durations.format(timeout));
        }
        ProbeResult result = new ProbeResult(Outcome.OK, probed, phases.build(), null, null, null);
        return new Round(result, sent, rtts.size(), reordered, rtts, median(rtts));
    }

    /** The host's first IPv4 address; a literal is used as is. */
    static Inet4Address resolve(String host) throws UnknownHostException {
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new UnknownHostException("cannot resolve " + host);
        }
        return Arrays.stream(all).filter(Inet4Address.class::isInstance).map(Inet4Address.class::cast).findFirst()
                .orElseThrow(() -> new UnknownHostException(host + " has no IPv4 address (icmp probes IPv4 only)"));
    }

    /** The middle RTT, or the mean of the two middle ones for an even count. */
    static long median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : sorted[middle - 1] + (sorted[middle] - sorted[middle - 1]) / 2;
    }

    private Round failed(Outcome outcome, String probed, PhaseTimings.Builder phases, int sentCount, String detail) {
        return new Round(new ProbeResult(outcome, probed, phases.build(), null, null, detail),
                sentCount, 0, 0, List.of(), null);
    }

    /** Nothing to release: the socket is the agent's, shared by all icmp targets. */
    @Override
    public void close() {}

    @Override
    public String toString() {
        return "IcmpProbe[" + host + ", " + packets + " x " + payloadBytes + " bytes, timeout "
                + Durations.format(timeout) + "]";
    }
}
