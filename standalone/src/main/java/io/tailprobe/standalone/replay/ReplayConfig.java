package io.tailprobe.standalone.replay;

import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.common.ConfigException;
import io.tailprobe.common.Durations;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code tailprobe replay} takes from configuration (defaults, {@code --config} file,
 * {@code TAILPROBE_…} variables, {@code --set}) rather than from its own flags.
 *
 * @param kafka Kafka client properties, passed through (SASL, TLS, …); {@code --bootstrap-servers} sets
 *     {@code bootstrap.servers}
 * @param maxSendDelay how long after its scheduled start a sample may have reached Kafka and still be
 *     found (the query API's {@code samples.maxSendDelay}, 1m)
 * @param maxLatency the aggregator's {@code maxLatency} (1h): a sample with a longer service or response
 *     time is invalid, as the aggregator dead-letters it
 * @param timeout how long each request to the broker may take before the replay gives up (30s)
 */
public record ReplayConfig(Map<String, String> kafka, Duration maxSendDelay, Duration maxLatency, Duration timeout) {
    public ReplayConfig {
        kafka = kafka == null ? KafkaSettings.defaults() : new TreeMap<>(kafka);
    }

    public static ReplayConfig defaults() {
        return new ReplayConfig(KafkaSettings.defaults(), QueryApiConfig.Samples.defaults().maxSendDelay(),
                AggregatorConfig.defaults().maxLatency(), Duration.ofSeconds(30));
    }

    /** Fails with the key and the rule named. */
    public ReplayConfig validated() {
        if (!kafka.containsKey(KafkaSettings.BOOTSTRAP_SERVERS)) {
            throw new ConfigException("kafka.bootstrap.servers must be set (or --bootstrap-servers)");
        }
        if (maxSendDelay == null || maxSendDelay.isNegative()) {
            throw new ConfigException("maxSendDelay must be >= 0, got " + (maxSendDelay == null ? null
                    : Durations.format(maxSendDelay)));
        }
        positive("maxLatency", maxLatency);
        positive("timeout", timeout);
        return this;
    }

    private static void positive(String key, Duration value) {
        if (value == null || !value.isPositive()) {
            throw new ConfigException(key + " must be > 0, got " + (value == null ? null : Durations.format(value)));
        }
    }
}
