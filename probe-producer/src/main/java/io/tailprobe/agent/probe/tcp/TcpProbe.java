package io.tailprobe.agent.probe.tcp;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.HostPort;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import io.tailprobe.schemas.Phases;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Times a TCP connect and, optionally, one line exchange (like blackbox_exporter's
 * {@code query_response}): after connecting it writes {@code send}, then reads one reply line and
 * checks that {@code expect} is found in it. With {@code expect} but no {@code send} it reads the
 * server's banner line. The whole probe, name resolution included, fits in the timeout.
 *
 * <p>Phases: {@code dnsNanos} (resolution, near 0 for a literal IP), {@code connectNanos},
 * {@code requestWriteNanos} (writing {@code send}), {@code firstByteNanos} (from the end of the write,
 * or of the connect for a banner, to the first reply byte) and {@code transferNanos} (the rest of
 * the line). A server on a LAN that answers "pong" at once shows e.g. connect 150 µs, first byte
 * 80 µs, transfer 0. The connect phase is the SYN → SYN-ACK time the kernel measured itself when it
 * can be read ({@link KernelHandshake}), else the wall clock around {@code connect()}; the probe's
 * service time is the sum of its phases.
 */
public final class TcpProbe implements Probe {
    public static final String TYPE = "tcp";
    public static final String PROTOCOL = "tcp";
    /** A reply longer than this without a newline fails validation rather than buffering forever. */
    static final int MAX_LINE_BYTES = 64 * 1024;
    private static final int DETAIL_CHARS = 120;

    private final String address;
    private final String host;
    private final int port;
    private final Duration timeout;
    private final byte[] send;
    private final Pattern expect;

    /**
     * @param send bytes to write after connecting (UTF-8), or null
     * @param expect a pattern the reply line must contain, or null to not read a reply
     */
    public TcpProbe(String host, int port, Duration timeout, String send, Pattern expect) {
        this.host = Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
        }
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be > 0, got " + Durations.format(timeout));
        }
        this.port = port;
        this.address = HostPort.format(host, port);
        this.timeout = timeout;
        this.send = send == null ? null : send.getBytes(StandardCharsets.UTF_8);
        this.expect = expect;
    }

    /** Builds the probe of a configured target; messages start with the offending key. */
    public static TcpProbe fromConfig(AgentConfig.Target target, Duration timeout) {
        String address = target.address();
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is required (host:port)");
        }
        HostPort parsed = HostPort.require(address);
        String host = parsed.host();
        int port = parsed.port();
        Pattern expect = null;
        if (target.expect() != null) {
            try {
                expect = Pattern.compile(target.expect());
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("expect is not a valid regular expression: "
                        + e.getDescription() + " in \"" + target.expect() + "\"");
            }
        }
        return new TcpProbe(host, port, timeout, target.send(), expect);
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
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        PhaseTimings.Builder phases = PhaseTimings.newBuilder();

        InetAddress ip;
        try {
            ip = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            phases.setDnsNanos(System.nanoTime() - start);
            return ProbeResult.failed(Outcome.DNS_ERROR, address, phases.build(), "cannot resolve " + host);
        }
        long resolved = System.nanoTime();
        phases.setDnsNanos(resolved - start);
        String probed = HostPort.format(ip.getHostAddress(), port);

        String phase = "connect to " + probed;
        try (SocketChannel channel = SocketChannel.open()) {
            Socket socket = channel.socket();
            int connectMillis = remainingMillis(deadline);
            if (connectMillis <= 0) {
                return timedOut(probed, phases, phase);
            }
            socket.connect(new InetSocketAddress(ip, port), connectMillis);
            long connected = System.nanoTime();
            long kernelRttNanos = KernelHandshake.rttNanos(channel);
            phases.setConnectNanos(kernelRttNanos > 0 ? kernelRttNanos : connected - resolved);

            long requestWritten = connected;
            if (send != null) {
                phase = "send to " + probed;
                socket.setTcpNoDelay(true);
                OutputStream out = socket.getOutputStream();
                out.write(send);
                out.flush();
                requestWritten = System.nanoTime();
                phases.setRequestWriteNanos(requestWritten - connected);
            }
            if (expect == null) {
                return ok(probed, phases.build());
            }

            phase = "read reply from " + probed;
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            long firstByteAt = -1;
            boolean complete = false;
            while (!complete) {
                int readMillis = remainingMillis(deadline);
                if (readMillis <= 0) {
                    return timedOut(probed, phases, phase);
                }
                socket.setSoTimeout(readMillis);
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                if (firstByteAt < 0) {
                    firstByteAt = System.nanoTime();
                    phases.setFirstByteNanos(firstByteAt - requestWritten);
                }
                int newline = indexOf(buffer, n, (byte) '\n');
                line.write(buffer, 0, newline < 0 ? n : newline);
                complete = newline >= 0;
                if (line.size() > MAX_LINE_BYTES) {
                    return ProbeResult.failed(Outcome.VALIDATION_FAILED, probed, phases.build(),
                            "reply line from " + probed + " is longer than " + MAX_LINE_BYTES + " bytes");
                }
            }
            if (firstByteAt < 0) {
                return ProbeResult.failed(Outcome.VALIDATION_FAILED, probed, phases.build(),
                        probed + " closed the connection before replying");
            }
            phases.setTransferNanos(System.nanoTime() - firstByteAt);
            String reply = line.toString(StandardCharsets.UTF_8);
            if (reply.endsWith("\r")) {
                reply = reply.substring(0, reply.length() - 1);
            }
            if (expect.matcher(reply).find()) {
                return ok(probed, phases.build());
            }
            return ProbeResult.failed(Outcome.VALIDATION_FAILED, probed, phases.build(),
                    "reply \"" + abbreviate(reply) + "\" does not match /" + expect.pattern() + "/");
        } catch (SocketTimeoutException e) {
            return timedOut(probed, phases, phase);
        } catch (IOException e) {
            if (Thread.interrupted()) {
                throw new InterruptedException("probe of " + probed + " interrupted");
            }
            return ProbeResult.failed(classify(e), probed, phases.build(), phase + ": " + describe(e));
        }
    }

    /**
     * The phases follow one another without a gap, so their sum is the probe's time, with the
     * kernel's handshake RTT in place of the wall clock around connect when it was readable.
     */
    private static ProbeResult ok(String probed, PhaseTimings phases) {
        long totalNanos = Phases.present(phases).values().stream().mapToLong(Long::longValue).sum();
        return ProbeResult.ok(probed, phases).withLatencyNanos(totalNanos);
    }

    /** Maps a socket failure to an outcome; the JDK reports most of them as message text only. */
    static Outcome classify(IOException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (e instanceof UnknownHostException) {
            return Outcome.DNS_ERROR;
        }
        if (e instanceof NoRouteToHostException || message.contains("unreachable") || message.contains("no route")
                || message.contains("host is down")) {
            return Outcome.UNREACHABLE;
        }
        if (message.contains("timed out")) {
            return Outcome.TIMEOUT;
        }
        if (e instanceof ConnectException || message.contains("refused")) {
            return message.contains("refused") ? Outcome.REFUSED : Outcome.IO_ERROR;
        }
        return Outcome.IO_ERROR;
    }

    private ProbeResult timedOut(String probed, PhaseTimings.Builder phases, String phase) {
        return ProbeResult.failed(Outcome.TIMEOUT, probed, phases.build(),
                phase + " timed out (probe timeout " + Durations.format(timeout) + ")");
    }

    /** Whole milliseconds left, rounded up so a sub-millisecond remainder is not 0 (= wait forever). */
    private static int remainingMillis(long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, (remaining + 999_999) / 1_000_000);
    }

    private static int indexOf(byte[] buffer, int length, byte b) {
        for (int i = 0; i < length; i++) {
            if (buffer[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String abbreviate(String text) {
        return text.length() <= DETAIL_CHARS ? text : text.substring(0, DETAIL_CHARS) + "…";
    }


    @Override
    public String toString() {
        return "TcpProbe[" + address + ", timeout " + Durations.format(timeout)
                + (send != null ? ", send" : "") + (expect != null ? ", expect /" + expect.pattern() + "/" : "") + "]";
    }
}
