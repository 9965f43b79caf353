package io.tailprobe.agent;

import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.Probes;
import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigLoader;
import io.tailprobe.common.ConfigOptions;
import io.tailprobe.common.Durations;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.SeriesKey;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The probe agent's configuration, loaded by {@link ConfigLoader} (defaults, YAML file,
 * {@code TAILPROBE_…} environment, {@code --set key=value}). The defaults run on a laptop: agent id =
 * host name, HTTP on 9101, a broker on {@code localhost:9092}, one target {@code demo-tcp} at
 * {@code 127.0.0.1:7001} probed every second with a 2 s timeout.
 *
 * <p>Example: a target with {@code interval: 250ms} and no {@code timeout} uses
 * {@code defaults.timeout} (2 s); a probe that takes 900 ms then delays the next three slots, and
 * their samples carry the wait in {@code responseTimeNanos}.
 */
public record AgentConfig(Agent agent, Http http, Map<String, String> kafka, Defaults defaults, List<Target> targets,
                          UdpEcho udpEcho, Spool spool) {
    public static final int DEFAULT_HTTP_PORT = 9101;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    public static final long DEFAULT_SPOOL_MAX_BYTES = 256L << 20;
    public static final Duration DEFAULT_SPOOL_MAX_AGE = Duration.ofHours(24);
    /** The smallest {@code spool.maxBytes}: the spool's files hold up to one 8 MiB segment more anyway. */
    public static final long MIN_SPOOL_MAX_BYTES = 1L << 20;

    public AgentConfig {
        agent = agent == null ? new Agent(null, null) : agent;
        http = http == null ? new Http(DEFAULT_HTTP_PORT) : http;
        kafka = kafka == null ? KafkaSettings.defaults() : new TreeMap<>(kafka);
        defaults = defaults == null ? new Defaults(null, null) : defaults;
        targets = targets == null ? List.of() : List.copyOf(targets);
        spool = spool == null ? new Spool(null, null, null) : spool;
    }

    public AgentConfig(Agent agent, Http http, Map<String, String> kafka, Defaults defaults, List<Target> targets) {
        this(agent, http, kafka, defaults, targets, null, null);
    }

    /**
     * Where samples wait while Kafka is unreachable or too slow (see {@code io.tailprobe.agent.spool.Spool}).
     * When it is full, the oldest samples make room; samples older than {@code maxAge} are dropped.
     * Example: at 100 samples/s a 60 s outage takes about 720 KB, so the default 256 MiB lasts about 6 h.
     *
     * @param directory one per agent, kept across restarts (it also holds the sample sequence); null means
     *     {@code <java.io.tmpdir>/tailprobe-spool/<agent.id>}, which survives a restart of the agent but
     *     perhaps not of the host: set a persistent path such as {@code /var/lib/tailprobe/spool} in production
     * @param maxBytes the most bytes of unsent samples kept, default 256 MiB, at least 1 MiB
     * @param maxAge samples whose scheduled start is older than this are dropped, default 24 h
     */
    public record Spool(Path directory, Long maxBytes, Duration maxAge) {
        public Spool {
            maxBytes = maxBytes == null ? DEFAULT_SPOOL_MAX_BYTES : maxBytes;
            maxAge = maxAge == null ? DEFAULT_SPOOL_MAX_AGE : maxAge;
        }
    }

    /**
     * The agent as a UDP echo responder, so agents can probe each other as a mesh ({@code type: udp}
     * targets pointing at other agents); null (the default) runs none.
     *
     * @param port the UDP port to answer on; 0 picks a free one
     * @param bind the local address to bind, default {@code 0.0.0.0}
     */
    public record UdpEcho(Integer port, String bind) {
        public UdpEcho {
            bind = bind == null ? "0.0.0.0" : bind;
        }
    }

    /** Who this agent is; {@code labels} are added to every sample (a target's own labels win). */
    public record Agent(String id, Map<String, String> labels) {
        public Agent {
            id = id == null ? hostName() : id;
            labels = labels == null ? Map.of() : new TreeMap<>(labels);
        }
    }

    /** The agent's own {@code /health} and {@code /metrics}; port 0 picks a free port. */
    public record Http(int port) {}

    /** Interval and timeout for targets that do not set their own. */
    public record Defaults(Duration interval, Duration timeout) {
        public Defaults {
            interval = interval == null ? DEFAULT_INTERVAL : interval;
            timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        }
    }

    /**
     * One thing to probe. {@code interval} and {@code timeout} may be null (the defaults apply);
     * {@code send} and {@code expect} are optional and probe-type specific (for tcp: a line to send
     * after connecting, and a regex the reply line must contain).
     */
    public record Target(String name, String type, String address, Duration interval, Duration timeout,
                         String send, String expect, Map<String, String> labels,
                         HttpOptions http, DnsOptions dns, UdpOptions udp, IcmpOptions icmp,
                         String resolve, String fileSd) {
        public Target {
            labels = labels == null ? Map.of() : new TreeMap<>(labels);
        }

        public Target(String name, String type, String address, Duration interval, Duration timeout,
                      String send, String expect, Map<String, String> labels) {
            this(name, type, address, interval, timeout, send, expect, labels, null, null, null, null, null, null);
        }

        public Target(String name, String type, String address, Duration interval, Duration timeout,
                      String send, String expect, Map<String, String> labels,
                      HttpOptions http, DnsOptions dns, UdpOptions udp) {
            this(name, type, address, interval, timeout, send, expect, labels, http, dns, udp, null, null, null);
        }

        /** A copy probing another address (one instance of an expanded target). */
        Target withAddress(String instanceAddress) {
            return new Target(name, type, instanceAddress, interval, timeout, send, expect, labels, http, dns, udp, icmp,
                    null, null);
        }

        public Target(String name, String type, String address) {
            this(name, type, address, null, null, null, null, null);
        }
    }

    /**
     * Options of an {@code http} target, whose {@code address} is a URL. Null fields take the
     * defaults the HTTP probe documents (GET, HTTP/1.1, a new connection per probe, 2xx expected,
     * TLS verified).
     *
     * @param version {@code http/1.1}, {@code h2} (TLS with ALPN) or {@code h2c} (cleartext, prior knowledge)
     * @param connection {@code new} (a new connection for every probe) or {@code reuse} (keep-alive)
     * @param expectStatus accepted status codes; empty or null means any 2xx
     * @param bodyRegex a regex the response body must contain (find)
     * @param tlsVerify verify the server's certificate chain and host name
     */
    public record HttpOptions(String method, Map<String, String> headers, String body, String version,
                              String connection, List<Integer> expectStatus, String bodyRegex, Boolean tlsVerify) {}

    /**
     * Options of a {@code dns} target, whose {@code address} is the resolver ({@code host:port}).
     *
     * @param name the name to query
     * @param recordType A, AAAA, SRV, CNAME, MX, TXT, NS, …
     * @param transport {@code udp} or {@code tcp}
     * @param expect a regex at least one answer record (as text) must contain
     */
    public record DnsOptions(String name, String recordType, String transport, String expect) {}

    /**
     * Options of a {@code udp} echo target, whose {@code address} is the echo responder.
     *
     * @param packets packets sent per round (one sample per round)
     * @param payloadBytes size of each packet
     */
    public record UdpOptions(Integer packets, Integer payloadBytes) {}

    /**
     * Options of an {@code icmp} target, whose {@code address} is a host name or IPv4 address.
     *
     * @param packets echo requests per round (one sample per round; default 5)
     * @param payloadBytes payload of each request (default 56)
     */
    public record IcmpOptions(Integer packets, Integer payloadBytes) {}

    /** A validated target with its defaults applied and its probe built. */
    /**
     * One instance to probe, validated, with its defaults applied and its probe built.
     *
     * @param source the target as configured
     * @param instance the address of this instance when the target expands (fileSd, resolve), else null
     */
    public record PlannedTarget(String name, String type, Duration interval, Duration timeout,
                                Map<String, String> labels, Probe probe, Target source, String instance) {
        public PlannedTarget(String name, String type, Duration interval, Duration timeout,
                             Map<String, String> labels, Probe probe) {
            this(name, type, interval, timeout, labels, probe, null, null);
        }

        /** Unique within an agent: the name, plus the instance for expanded targets. */
        public String key() {
            return instance == null ? name : name + " " + instance;
        }
    }

    /** The laptop defaults (see the class comment). */
    public static AgentConfig defaultConfig() {
        return new AgentConfig(new Agent(hostName(), Map.of()), new Http(DEFAULT_HTTP_PORT), KafkaSettings.defaults(),
                new Defaults(DEFAULT_INTERVAL, DEFAULT_TIMEOUT),
                List.of(new Target("demo-tcp", "tcp", "127.0.0.1:7001")));
    }

    /** Loads with the standard layers; {@code file} may be null. */
    public static AgentConfig load(Path file, Map<String, String> env, List<String> sets) {
        return ConfigLoader.load(AgentConfig.class, defaultConfig(), file, env, sets);
    }

    /** Loads from the {@code --config}/{@code --set} flags and the process environment. */
    public static AgentConfig load(ConfigOptions options) {
        return options.load(AgentConfig.class, defaultConfig());
    }

    /** A copy with another target list, for programmatic use (e.g. the standalone stack). */
    public AgentConfig withTargets(List<Target> newTargets) {
        return new AgentConfig(agent, http, kafka, defaults, newTargets, udpEcho, spool);
    }

    /** A copy that answers UDP echo on {@code port} (0 = any free port). */
    public AgentConfig withUdpEcho(int port) {
        return new AgentConfig(agent, http, kafka, defaults, targets, new UdpEcho(port, null), spool);
    }

    /** A copy with another HTTP port (0 = any free port). */
    public AgentConfig withHttpPort(int port) {
        return new AgentConfig(agent, new Http(port), kafka, defaults, targets, udpEcho, spool);
    }

    /** A copy with other Kafka client properties merged over these. */
    public AgentConfig withKafka(Map<String, String> properties) {
        Map<String, String> merged = new TreeMap<>(kafka);
        merged.putAll(properties);
        return new AgentConfig(agent, http, merged, defaults, targets, udpEcho, spool);
    }

    /** A copy that spools in {@code directory}. */
    public AgentConfig withSpoolDirectory(Path directory) {
        return new AgentConfig(agent, http, kafka, defaults, targets, udpEcho,
                new Spool(directory, spool.maxBytes(), spool.maxAge()));
    }

    /** {@code spool.directory}, or the default for this agent id. */
    public Path spoolDirectory() {
        return spool.directory() != null ? spool.directory()
                : Path.of(System.getProperty("java.io.tmpdir"), "tailprobe-spool", agent.id());
    }

    /**
     * Checks every rule and builds each target's probe.
     *
     * @throws ConfigException listing every broken rule with its key, e.g.
     *     {@code targets[2].interval must be > 0, got -5s}
     */
    public List<PlannedTarget> plan() {
        List<String> errors = new ArrayList<>();
        if (agent.id().isBlank()) {
            errors.add("agent.id must not be empty");
        }
        if (http.port() < 0 || http.port() > 65_535) {
            errors.add("http.port must be between 0 and 65535, got " + http.port());
        }
        if (kafka.getOrDefault(KafkaSettings.BOOTSTRAP_SERVERS, "").isBlank()) {
            errors.add("kafka." + KafkaSettings.BOOTSTRAP_SERVERS + " must not be empty");
        }
        if (udpEcho != null && (udpEcho.port() == null || udpEcho.port() < 0 || udpEcho.port() > 65_535)) {
            errors.add("udpEcho.port must be between 0 and 65535, got " + udpEcho.port());
        }
        requirePositive(errors, "defaults.interval", defaults.interval());
        requirePositive(errors, "defaults.timeout", defaults.timeout());
        if (spool.maxBytes() < MIN_SPOOL_MAX_BYTES) {
            errors.add("spool.maxBytes must be at least " + MIN_SPOOL_MAX_BYTES + " (1 MiB), got " + spool.maxBytes());
        }
        requirePositive(errors, "spool.maxAge", spool.maxAge());

        List<PlannedTarget> planned = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            String key = "targets[" + i + "]";
            Target t = targets.get(i);
            if (t == null) {
                errors.add(key + " must not be empty");
                continue;
            }
            int before = errors.size();
            try {
                SeriesKey.requireClean(key + ".name", t.name());
            } catch (NullPointerException e) {
                errors.add(key + ".name is required");
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
            if (t.name() != null) {
                Integer first = seen.putIfAbsent(t.name(), i);
                if (first != null) {
                    errors.add(key + ".name \"" + t.name() + "\" is already used by targets[" + first + "]");
                }
            }
            Duration interval = t.interval() == null ? defaults.interval() : t.interval();
            Duration timeout = t.timeout() == null ? defaults.timeout() : t.timeout();
            if (t.interval() != null) {
                requirePositive(errors, key + ".interval", interval);
            }
            if (t.timeout() != null) {
                requirePositive(errors, key + ".timeout", timeout);
            }
            if (t.type() == null) {
                errors.add(key + ".type is required (one of " + Probes.types() + ")");
                continue;
            } else if (!Probes.types().contains(t.type())) {
                errors.add(key + ".type must be one of " + Probes.types() + ", got \"" + t.type() + "\"");
                continue;
            }
            List<TargetSources.Instance> instances;
            try {
                instances = TargetSources.expand(t);
            } catch (IllegalArgumentException e) {
                errors.add(key + "." + e.getMessage());
                continue;
            }
            boolean expanded = TargetSources.expands(t);
            for (TargetSources.Instance instance : instances) {
                Probe probe;
                try {
                    probe = Probes.create(expanded ? t.withAddress(instance.address()) : t,
                            timeout.isPositive() ? timeout : DEFAULT_TIMEOUT);
                } catch (IllegalArgumentException e) {
                    errors.add(key + "." + e.getMessage() + (expanded ? " (instance " + instance.address() + ")" : ""));
                    continue;
                }
                if (errors.size() != before) {
                    probe.close();
                    continue;
                }
                Map<String, String> labels = new LinkedHashMap<>(agent.labels());
                labels.putAll(t.labels());
                labels.putAll(instance.labels());
                if (expanded) {
                    labels.put(TargetSources.INSTANCE_LABEL, instance.address());
                }
                planned.add(new PlannedTarget(t.name(), t.type(), interval, timeout, Map.copyOf(labels), probe, t,
                        expanded ? instance.address() : null));
            }
        }
        if (!errors.isEmpty()) {
            planned.forEach(p -> p.probe().close());
            throw new ConfigException(String.join("; ", errors));
        }
        return List.copyOf(planned);
    }

    private static void requirePositive(List<String> errors, String key, Duration value) {
        if (value == null || !value.isPositive()) {
            errors.add(key + " must be > 0, got " + (value == null ? "nothing" : Durations.format(value)));
        }
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "localhost" : env;
        }
    }
}
