package io.tailprobe.bench;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.agent.probe.icmp.IcmpProbe;
import io.tailprobe.agent.probe.tcp.TcpProbe;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.agent.probe.HostPort;
import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;

/**
 * Runs the agent's TCP or ICMP probe COUNT times, one at a time, for bench/accuracy/run.sh.
 *
 * <p>Usage: {@code ProbeAccuracy tcp|tcp-wall|icmp HOST[:PORT] COUNT INTERVAL_MS [WARMUP]}. {@code tcp-wall}
 * is the naive way for comparison: the wall clock around a blocking {@code connect()} on a virtual thread. First runs WARMUP
 * (default 50) probes that are not printed, then prints {@code # warmup W} and one line per measured
 * probe: the connect time (tcp) or the RTT of the round's single echo (icmp) in microseconds with 3
 * decimals, or {@code NaN} when the probe was not OK. Each probe runs on a virtual thread, as in the agent. Probes never overlap, so the k-th probe of the
 * run (warm-up included) is the k-th SYN / echo exchange on the wire.
 */
public final class ProbeAccuracy {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private ProbeAccuracy() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4 || args.length > 5) {
            System.err.println("usage: ProbeAccuracy tcp|tcp-wall|icmp HOST[:PORT] COUNT INTERVAL_MS [WARMUP]");
            System.exit(2);
        }
        String kind = args[0];
        String address = args[1];
        int count = Integer.parseInt(args[2]);
        long intervalMs = Long.parseLong(args[3]);
        int warmup = args.length == 5 ? Integer.parseInt(args[4]) : 50;

        Probe probe;
        boolean tcp;
        switch (kind) {
            case "tcp-wall" -> {
                tcp = true;
                probe = new WallClockConnect(address);
            }
            case "tcp" -> {
                tcp = true;
                probe = TcpProbe.fromConfig(new AgentConfig.Target("bench-tcp", "tcp", address,
                        null, null, null, null, Map.of()), TIMEOUT);
            }
            case "icmp" -> {
                tcp = false;
                probe = IcmpProbe.fromConfig(new AgentConfig.Target("bench-icmp", "icmp", address,
                        Duration.ofMillis(intervalMs), TIMEOUT, null, null, Map.of(), null, null, null,
                        new AgentConfig.IcmpOptions(1, 56), null, null), TIMEOUT);
            }
            default -> throw new IllegalArgumentException("kind must be tcp, tcp-wall or icmp, got " + kind);
        }

        PrintStream out = System.out;
        StringBuilder lines = new StringBuilder(count * 12);
        long next = System.nanoTime();
        for (int i = 0; i < warmup + count; i++) {
            long now = System.nanoTime();
            if (next > now) {
                Thread.sleep(Duration.ofNanos(next - now));
            }
            next = Math.max(next, System.nanoTime()) + intervalMs * 1_000_000L;
            ProbeResult result = onVirtualThread(probe);
            if (i < warmup) {
                continue;
            }
            lines.append(format(result, tcp)).append('\n');
        }
        out.println("# warmup " + warmup);
        out.print(lines);
        out.flush();
        System.exit(0);
    }

    /** The naive TCP connect time: System.nanoTime() around SocketChannel.connect(). */
    private record WallClockConnect(String address) implements Probe {
        @Override
        public ProbeResult probe() {
            HostPort target = HostPort.parse(address).orElseThrow();
            try (SocketChannel channel = SocketChannel.open()) {
                InetSocketAddress remote = new InetSocketAddress(target.host(), target.port());
                long start = System.nanoTime();
                channel.connect(remote);
                long connectNanos = System.nanoTime() - start;
                return ProbeResult.ok(address, PhaseTimings.newBuilder().setConnectNanos(connectNanos).build());
            } catch (IOException e) {
                return ProbeResult.failed(Outcome.IO_ERROR, address, null, e.toString());
            }
        }

        @Override
        public String type() {
            return "tcp-wall";
        }

        @Override
        public String protocol() {
            return "tcp";
        }
    }

    /** Runs one probe the way the agent's pacers do: on a virtual thread. */
    private static ProbeResult onVirtualThread(Probe probe) throws InterruptedException {
        ProbeResult[] result = new ProbeResult[1];
        Thread thread = Thread.ofVirtual().start(() -> {
            try {
                result[0] = probe.probe();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        thread.join();
        return result[0];
    }

    private static String format(ProbeResult result, boolean tcp) {
        if (result.outcome() != Outcome.OK) {
            return "NaN";
        }
        long nanos;
        if (tcp) {
            if (result.phases() == null) {
                return "NaN";
            }
            nanos = result.phases().getConnectNanos();
        } else {
            if (result.latencyNanos() == null) {
                return "NaN";
            }
            nanos = result.latencyNanos();
        }
        return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1000.0);
    }
}
