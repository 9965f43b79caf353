package io.tailprobe.agent.probe.dns;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.HostPort;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.xbill.DNS.Address;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.io.DefaultIoClientFactory;
import org.xbill.DNS.io.IoClientFactory;
import org.xbill.DNS.io.TcpIoClient;
import org.xbill.DNS.io.UdpIoClient;

/**
 * Times one DNS query sent straight to one resolver, with no cache anywhere on the path: the query
 * goes out through dnsjava's {@link SimpleResolver} (no {@code Lookup}, no JVM or OS resolver), so
 * every probe is a real round trip. The resolver's address must be an IP literal — a probe of
 * "the resolver" that first needed a resolver would measure the wrong thing.
 *
 * <p>The sample's {@code statusCode} is the rcode; the outcome is OK for NOERROR (and, with
 * {@code dns.expect}, at least one answer whose rdata text contains the pattern), DNS_ERROR for any
 * other rcode, VALIDATION_FAILED when {@code expect} finds no match, TIMEOUT when no reply arrives
 * within the timeout. Over UDP the one phase, {@code firstByteNanos}, is the whole exchange from
 * sending the query to the parsed reply, and a truncated reply is taken as is rather than retried over
 * TCP, so a {@code dns/udp} sample never hides a TCP exchange. Over TCP every probe opens its own
 * connection ({@link OneShotTcpClient}): {@code connectNanos} is the handshake and
 * {@code firstByteNanos} the rest of the exchange.
 *
 * <p>Example: {@code address: 10.0.0.2:53}, {@code dns: {name: db.internal, expect: "^10\\.0\\."}}
 * against a resolver on the LAN that answers {@code 10.0.0.7} reports OK with rcode 0, one answer,
 * and an exchange of some 300 µs.
 */
public final class DnsProbe implements Probe {
    public static final String TYPE = "dns";
    /** The record types a target may query; others are rejected at start-up rather than sent. */
    public static final List<String> RECORD_TYPES =
            List.of("A", "AAAA", "CAA", "CNAME", "HTTPS", "MX", "NS", "PTR", "SOA", "SRV", "SVCB", "TXT");
    public static final String DEFAULT_RECORD_TYPE = "A";
    private static final int DETAIL_CHARS = 120;

    /** How the query travels; the sample's protocol is {@code dns/udp} or {@code dns/tcp}. */
    public enum Transport {
        UDP, TCP;

        static final List<String> NAMES = List.of("udp", "tcp");

        String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One probe's result with what the sample schema holds beyond {@link ProbeResult}.
     *
     * @param answerCount records in the answer section, null when no reply arrived
     */
    public record Exchange(ProbeResult result, Integer answerCount) {}

    private final InetSocketAddress resolverAddress;
    private final String address;
    private final Name name;
    private final int recordType;
    private final Transport transport;
    private final Duration timeout;
    private final Pattern expect;
    private final SimpleResolver resolver;
    private final OneShotTcpClient tcpClient = new OneShotTcpClient();

    /**
     * @param resolverAddress the resolver, already an IP address (never resolved here)
     * @param name the absolute name to query
     * @param recordType a dnsjava {@link Type} value
     * @param expect a pattern at least one answer's rdata text must contain, or null
     */
    public DnsProbe(InetSocketAddress resolverAddress, Name name, int recordType, Transport transport,
                    Duration timeout, Pattern expect) {
        this.resolverAddress = Objects.requireNonNull(resolverAddress, "resolverAddress");
        if (resolverAddress.isUnresolved()) {
            throw new IllegalArgumentException("resolverAddress must be an IP address, got " + resolverAddress);
        }
        this.name = Objects.requireNonNull(name, "name");
        if (!name.isAbsolute()) {
            throw new IllegalArgumentException("name must be absolute, got " + name);
        }
        this.recordType = recordType;
        Type.check(recordType);
        this.transport = Objects.requireNonNull(transport, "transport");
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be > 0, got " + Durations.format(timeout));
        }
        this.timeout = timeout;
        this.expect = expect;
        this.address = HostPort.format(resolverAddress.getAddress().getHostAddress(), resolverAddress.getPort());
        this.resolver = new SimpleResolver(resolverAddress);
        resolver.setTCP(transport == Transport.TCP);
        UdpIoClient udpClient = new DefaultIoClientFactory().createOrGetUdpClient();
        resolver.setIoClientFactory(new IoClientFactory() {
            @Override
            public TcpIoClient createOrGetTcpClient() {
                return tcpClient;
            }

            @Override
            public UdpIoClient createOrGetUdpClient() {
                return udpClient;
            }
        });
        resolver.setIgnoreTruncation(true);
        resolver.setTimeout(timeout);
    }

    /** Builds the probe of a configured target; messages start with the offending key. */
    public static DnsProbe fromConfig(AgentConfig.Target target, Duration timeout) {
        InetSocketAddress resolverAddress = parseResolver(target.address());
        if (target.send() != null) {
            throw new IllegalArgumentException("send is not used by dns targets (the query is dns.name and dns.recordType)");
        }
        if (target.expect() != null) {
            throw new IllegalArgumentException("expect is not used by dns targets; use dns.expect");
        }
        AgentConfig.DnsOptions options = target.dns();
        if (options == null || options.name() == null || options.name().isBlank()) {
            throw new IllegalArgumentException("dns.name is required (the name to query, e.g. db.internal)");
        }
        Name name;
        try {
            name = Name.fromString(options.name(), Name.root);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("dns.name must be a domain name, got \"" + options.name() + "\": "
                    + e.getMessage());
        }
        String typeText = options.recordType() == null ? DEFAULT_RECORD_TYPE
                : options.recordType().toUpperCase(Locale.ROOT);
        if (!RECORD_TYPES.contains(typeText)) {
            throw new IllegalArgumentException("dns.recordType must be one of " + RECORD_TYPES + ", got \""
                    + options.recordType() + "\"");
        }
        Transport transport = Transport.UDP;
        if (options.transport() != null) {
            String text = options.transport().toLowerCase(Locale.ROOT);
            if (!Transport.NAMES.contains(text)) {
                throw new IllegalArgumentException("dns.transport must be one of " + Transport.NAMES + ", got \""
                        + options.transport() + "\"");
            }
            transport = Transport.valueOf(text.toUpperCase(Locale.ROOT));
        }
        Pattern expect = null;
        if (options.expect() != null) {
            try {
                expect = Pattern.compile(options.expect());
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("dns.expect is not a valid regular expression: "
                        + e.getDescription() + " in \"" + options.expect() + "\"");
            }
        }
        return new DnsProbe(resolverAddress, name, Type.value(typeText), transport, timeout, expect);
    }

    /** Parses {@code ip:port} or {@code [ipv6]:port} without ever consulting a resolver. */
    static InetSocketAddress parseResolver(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is required (the resolver as ip:port, e.g. 10.0.0.2:53)");
        }
        HostPort parsed = HostPort.parse(address).orElseThrow(() -> badAddress(address));
        String host = parsed.host();
        int port = parsed.port();
        InetAddress ip;
        try {
            // Address.getByAddress accepts literals only: a host name fails here instead of being looked up.
            ip = Address.getByAddress(host);
        } catch (UnknownHostException e) {
            throw badAddress(address);
        }
        return new InetSocketAddress(ip, port);
    }

    private static IllegalArgumentException badAddress(String address) {
        return new IllegalArgumentException("address must be host:port of the resolver with an IP literal host "
                + "(so reaching it needs no resolver) and a port from 1 to 65535 (IPv6 as [addr]:port), got \""
                + address + "\"");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String protocol() {
        return "dns/" + transport.configName();
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public ProbeResult probe() throws InterruptedException {
        Exchange exchange = exchange();
        return exchange.result().withAnswerCount(exchange.answerCount());
    }

    /** Sends one query and waits for its reply, at most the timeout. */
    public Exchange exchange() throws InterruptedException {
        Message query = Message.newQuery(Record.newRecord(name, recordType, DClass.IN));
        long start = System.nanoTime();
        CompletableFuture<Message> pending = resolver.sendAsync(query).toCompletableFuture();
        Message response;
        try {
            response = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            pending.cancel(true);
            throw e;
        } catch (TimeoutException e) {
            pending.cancel(true);
            return failed(Outcome.TIMEOUT, describeQuery() + " timed out (probe timeout " + Durations.format(timeout) + ")");
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            Outcome outcome = classify(cause);
            if (outcome == Outcome.TIMEOUT) {
                return failed(outcome, describeQuery() + " timed out (probe timeout " + Durations.format(timeout) + ")");
            }
            return failed(outcome, describeQuery() + ": " + describe(cause));
        }
        long exchangeNanos = System.nanoTime() - start;
        PhaseTimings.Builder timings = PhaseTimings.newBuilder().setFirstByteNanos(exchangeNanos);
        long connectNanos = tcpClient.lastConnectNanos();
        if (transport == Transport.TCP && connectNanos >= 0) {
            timings.setConnectNanos(connectNanos).setFirstByteNanos(Math.max(0, exchangeNanos - connectNanos));
        }
        PhaseTimings phases = timings.build();
        Boolean connectionReused = transport == Transport.TCP ? Boolean.FALSE : null;

        int rcode = response.getRcode();
        List<Record> answers = response.getSection(Section.ANSWER);
        if (rcode != Rcode.NOERROR) {
            return new Exchange(new ProbeResult(Outcome.DNS_ERROR, address, phases, connectionReused, rcode,
                    Rcode.string(rcode) + " for " + describeQuery()), answers.size());
        }
        if (expect != null) {
            if (answers.isEmpty()) {
                return new Exchange(new ProbeResult(Outcome.VALIDATION_FAILED, address, phases, connectionReused, rcode,
                        "no answer records for " + describeQuery() + " (NOERROR), expected /" + expect.pattern() + "/"), 0);
            }
            boolean matched = answers.stream().anyMatch(r -> expect.matcher(r.rdataToString()).find());
            if (!matched) {
                String seen = String.join(", ", answers.stream().map(Record::rdataToString).toList());
                return new Exchange(new ProbeResult(Outcome.VALIDATION_FAILED, address, phases, connectionReused, rcode,
                        "no answer matches /" + expect.pattern() + "/ in " + abbreviate(seen)), answers.size());
            }
        }
        return new Exchange(new ProbeResult(Outcome.OK, address, phases, connectionReused, rcode, null), answers.size());
    }

    /** Maps a transport failure to an outcome; the JDK reports most of them as message text only. */
    static Outcome classify(Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (e instanceof SocketTimeoutException || e instanceof TimeoutException || message.contains("timed out")) {
            return Outcome.TIMEOUT;
        }
        if (e instanceof PortUnreachableException || message.contains("refused")) {
            return Outcome.REFUSED;
        }
        if (e instanceof NoRouteToHostException || message.contains("unreachable") || message.contains("no route")
                || message.contains("host is down")) {
            return Outcome.UNREACHABLE;
        }
        return Outcome.IO_ERROR;
    }

    private Exchange failed(Outcome outcome, String detail) {
        return new Exchange(new ProbeResult(outcome, address, null, null, null, detail), null);
    }

    private String describeQuery() {
        return Type.string(recordType) + " " + name + " to " + address + " over " + transport.configName();
    }

    private static Throwable unwrap(ExecutionException e) {
        Throwable cause = e.getCause();
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause == null ? e : cause;
    }

    private static String describe(Throwable e) {
        if (e instanceof IOException && e.getMessage() != null) {
            return e.getMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static String abbreviate(String text) {
        return text.length() <= DETAIL_CHARS ? text : text.substring(0, DETAIL_CHARS) + "…";
    }


    @Override
    public String toString() {
        return "DnsProbe[" + describeQuery() + ", timeout " + Durations.format(timeout)
                + (expect != null ? ", expect /" + expect.pattern() + "/" : "") + "]";
    }
}
