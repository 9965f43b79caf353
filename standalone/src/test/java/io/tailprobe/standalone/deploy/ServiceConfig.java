package io.tailprobe.standalone.deploy;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.common.ConfigLoader;
import io.tailprobe.query.QueryApiConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Each service's configuration as the service itself loads it: through {@link ConfigLoader} (an unknown
 * key in a file or a {@code --set} fails there) and the service's own validation. A {@code TAILPROBE_…}
 * variable the loader does not read is silently ignored by it, so {@link #unknownVariables} checks them
 * against {@link ConfigLoader#environmentKeys} and the Kafka clients' own property names.
 */
enum ServiceConfig {
    AGENT("agent", AgentConfig.DEFAULT_HTTP_PORT, "image.agent"),
    AGGREGATOR("aggregator", AggregatorConfig.DEFAULT_HTTP_PORT, "image.aggregator"),
    QUERY_API("query-api", QueryApiConfig.DEFAULT_HTTP_PORT, "image.queryApi");

    /** What a loaded, validated configuration says about the deployment: its port and the directories it writes. */
    record Loaded(int httpPort, List<String> writtenDirectories) {}

    /** The {@code tailprobe} subcommand, the Dockerfile stage and the systemd instance name. */
    final String command;
    final int defaultHttpPort;
    /** The root pom property naming the service's image. */
    final String imageProperty;

    ServiceConfig(String command, int defaultHttpPort, String imageProperty) {
        this.command = command;
        this.defaultHttpPort = defaultHttpPort;
        this.imageProperty = imageProperty;
    }

    static ServiceConfig byCommand(String command) {
        for (ServiceConfig service : values()) {
            if (service.command.equals(command)) {
                return service;
            }
        }
        throw new IllegalArgumentException("no service " + command);
    }

    Map<String, String> environmentKeys(Path file) {
        return switch (this) {
            case AGENT -> ConfigLoader.environmentKeys(AgentConfig.class, AgentConfig.defaultConfig(), file);
            case AGGREGATOR -> ConfigLoader.environmentKeys(AggregatorConfig.class, AggregatorConfig.defaults(), file);
            case QUERY_API -> ConfigLoader.environmentKeys(QueryApiConfig.class, QueryApiConfig.defaultConfig(), file);
        };
    }

    /**
     * Loads and validates as the service does at start-up.
     *
     * @throws io.tailprobe.common.ConfigException naming the key and the rule
     */
    Loaded load(Path file, Map<String, String> env, List<String> sets) {
        switch (this) {
            case AGENT -> {
                AgentConfig config = AgentConfig.load(file, env, sets);
                config.plan().forEach(target -> target.probe().close());
                return new Loaded(config.http().port(), List.of(config.spoolDirectory().toString()));
            }
            case AGGREGATOR -> {
                AggregatorConfig config = ConfigLoader.load(AggregatorConfig.class, AggregatorConfig.defaults(), file, env,
                        sets).validated();
                return new Loaded(config.http().port(), List.of(config.streams().stateDir().toString()));
            }
            default -> {
                QueryApiConfig config = ConfigLoader.load(QueryApiConfig.class, QueryApiConfig.defaultConfig(), file, env,
                        sets).validate();
                return new Loaded(config.http().port(), List.of(config.streams().stateDir()));
            }
        }
    }

    /**
     * The {@code TAILPROBE_…} names among {@code names} that this service with this file would ignore:
     * neither a configuration key nor {@code TAILPROBE_KAFKA_} plus a Kafka client property.
     */
    List<String> unknownVariables(Iterable<String> names, Path file) {
        Map<String, String> keys = environmentKeys(file);
        List<String> unknown = new ArrayList<>();
        for (String name : names) {
            if (!name.startsWith(ConfigLoader.ENV_PREFIX)) {
                continue;
            }
            boolean known = keys.containsKey(name) || isKafkaVariable(name);
            if (!known) {
                unknown.add(name);
            }
        }
        return unknown;
    }

    private static final String KAFKA_PREFIX = ConfigLoader.ENV_PREFIX + "KAFKA_";

    /** {@code TAILPROBE_KAFKA_SECURITY_PROTOCOL} → security.protocol, a property some Kafka client of a service knows. */
    static boolean isKafkaVariable(String name) {
        return name.startsWith(KAFKA_PREFIX)
                && KAFKA_PROPERTIES.contains(name.substring(KAFKA_PREFIX.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.'));
    }

    static boolean isKafkaProperty(String property) {
        return KAFKA_PROPERTIES.contains(property);
    }

    private static final Set<String> KAFKA_PROPERTIES = kafkaProperties();

    private static Set<String> kafkaProperties() {
        Set<String> all = new TreeSet<>();
        all.addAll(ProducerConfig.configNames());
        all.addAll(ConsumerConfig.configNames());
        all.addAll(AdminClientConfig.configNames());
        all.addAll(StreamsConfig.configDef().names());
        return all;
    }
}
