package io.tailprobe.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.agent.probe.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Turns one configured target into the instances to probe. A plain target is one instance. Two
 * sources make more, all under the target's name (so they form one series, fleet-wide), each with
 * its own address and an {@code instance} label:
 * <ul>
 *   <li>{@code fileSd: /etc/tailprobe/db.json} — a Prometheus {@code file_sd} file,
 *       {@code [{"targets": ["10.0.0.7:5432", …], "labels": {"az": "a"}}, …]}; the file's labels are
 *       added to the instance's;</li>
 *   <li>{@code resolve: dns} — the address's host name expands to every A/AAAA address
 *       ({@code db.internal:5432} → {@code 10.0.0.7:5432}, {@code 10.0.0.8:5432});
 *       {@code resolve: srv} — the address is an SRV name ({@code _pg._tcp.internal}) whose every
 *       target and port is probed, each target's host resolved as for {@code dns}.</li>
 * </ul>
 * A name that does not resolve yields the unresolved address as its one instance, so its probes
 * report DNS_ERROR samples instead of vanishing. The agent expands again every
 * {@link #REFRESH} so that changes in DNS or in the file are picked up.
 */
final class TargetSources {
    static final java.time.Duration REFRESH = java.time.Duration.ofSeconds(30);
    static final String INSTANCE_LABEL = "instance";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One address to probe for a target, with the labels it adds. */
    record Instance(Target target, String address, Map<String, String> labels) {}

    private TargetSources() {}

    static boolean expands(Target target) {
        return target.fileSd() != null || target.resolve() != null;
    }

    /**
     * @throws IllegalArgumentException for a bad source, with a message that starts with the key
     */
    static List<Instance> expand(Target target) {
        if (!expands(target)) {
            return List.of(new Instance(target, target.address(), Map.of()));
        }
        if ("http".equals(target.type())) {
            throw new IllegalArgumentException("fileSd and resolve are not supported for http targets "
                    + "(a URL's host is resolved by the probe itself)");
        }
        List<Instance> fromSource = target.fileSd() != null ? fromFile(target)
                : List.of(new Instance(target, target.address(), Map.of()));
        if (target.resolve() == null) {
            return fromSource;
        }
        List<Instance> resolved = new ArrayList<>();
        for (Instance instance : fromSource) {
            for (String address : resolve(target, instance.address())) {
                resolved.add(new Instance(target, address, instance.labels()));
            }
        }
        return resolved;
    }

    private static List<Instance> fromFile(Target target) {
        if (target.address() != null) {
            throw new IllegalArgumentException("address and fileSd exclude each other; the file lists the addresses");
        }
        Path file = Path.of(target.fileSd());
        JsonNode groups;
        try {
            groups = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("fileSd " + file + " cannot be read as JSON: " + e.getMessage());
        }
        if (groups == null || !groups.isArray()) {
            throw new IllegalArgumentException("fileSd " + file + " must hold a JSON list of {\"targets\": [...], \"labels\": {...}}");
        }
        List<Instance> instances = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            JsonNode group = groups.get(g);
            JsonNode addresses = group.path("targets");
            if (!addresses.isArray()) {
                throw new IllegalArgumentException("fileSd " + file + "[" + g + "].targets must be a list of addresses");
            }
            Map<String, String> labels = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> fields = group.path("labels").fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> label = fields.next();
                if (!label.getKey().startsWith("__")) { // Prometheus' internal labels
                    labels.put(label.getKey(), label.getValue().asText());
                }
            }
            for (JsonNode address : addresses) {
                instances.add(new Instance(target, address.asText(), Map.copyOf(labels)));
            }
        }
        return instances;
    }

    private static List<String> resolve(Target target, String address) {
        String mode = target.resolve().toLowerCase(Locale.ROOT);
        return switch (mode) {
            case "dns" -> resolveHost(address);
            case "srv" -> resolveSrv(address);
            default -> throw new IllegalArgumentException("resolve must be dns or srv, got \"" + target.resolve() + "\"");
        };
    }

    /** {@code host:port} (or a bare host, for icmp) → every address of the host, same port. */
    private static List<String> resolveHost(String address) {
        HostPort hostPort = HostPort.parse(address).orElse(null);
        String host = hostPort == null ? address : hostPort.host();
        try {
            List<String> addresses = new ArrayList<>();
            for (InetAddress ip : InetAddress.getAllByName(host)) {
                String literal = ip.getHostAddress();
                addresses.add(hostPort == null ? literal : HostPort.format(literal, hostPort.port()));
            }
            return addresses;
        } catch (UnknownHostException e) {
            return List.of(address);
        }
    }

    private static List<String> resolveSrv(String name) {
        try {
            Record[] records = new Lookup(name, Type.SRV).run();
            if (records == null) {
                return List.of(name);
            }
            List<String> addresses = new ArrayList<>();
            for (Record record : records) {
                SRVRecord srv = (SRVRecord) record;
                String host = srv.getTarget().toString(true);
                addresses.addAll(resolveHost(host + ":" + srv.getPort()));
            }
            return addresses;
        } catch (TextParseException e) {
            throw new IllegalArgumentException("address is not a DNS name for resolve: srv, got \"" + name + "\"");
        }
    }
}
