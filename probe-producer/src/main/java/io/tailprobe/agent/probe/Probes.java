package io.tailprobe.agent.probe;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.dns.DnsProbe;
import io.tailprobe.agent.probe.http.HttpProbe;
import io.tailprobe.agent.probe.icmp.IcmpProbe;
import io.tailprobe.agent.probe.tcp.TcpProbe;
import io.tailprobe.agent.probe.udp.UdpEchoProbe;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;

/**
 * The probe types by name: the one place a new type is registered. A factory validates the
 * target's type-specific keys and throws {@link IllegalArgumentException} with a message that starts
 * with the key, e.g. {@code address must be host:port, got "db"}; the caller prefixes the target.
 */
public final class Probes {
    private static final Map<String, BiFunction<AgentConfig.Target, Duration, Probe>> FACTORIES = new TreeMap<>(Map.of(
            TcpProbe.TYPE, TcpProbe::fromConfig,
            DnsProbe.TYPE, DnsProbe::fromConfig,
            UdpEchoProbe.TYPE, UdpEchoProbe::fromConfig,
            IcmpProbe.TYPE, IcmpProbe::fromConfig,
            HttpProbe.TYPE, HttpProbe::fromConfig));

    private Probes() {}

    /** The registered type names, sorted. */
    public static Set<String> types() {
        return FACTORIES.keySet();
    }

    /**
     * Builds the probe for one target.
     *
     * @param timeout the target's effective timeout, &gt; 0
     * @throws IllegalArgumentException for an unknown type or a bad type-specific key
     */
    public static Probe create(AgentConfig.Target target, Duration timeout) {
        BiFunction<AgentConfig.Target, Duration, Probe> factory = FACTORIES.get(target.type());
        if (factory == null) {
            throw new IllegalArgumentException("type must be one of " + types() + ", got \"" + target.type() + "\"");
        }
        return factory.apply(target, timeout);
    }
}
