package io.tailprobe.common;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/** Kafka client properties from a service's {@code kafka:} section, passed through verbatim (SASL, TLS, …). */
public final class KafkaSettings {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092";

    private KafkaSettings() {}

    /** The default section: a broker on this machine. */
    public static Map<String, String> defaults() {
        Map<String, String> kafka = new TreeMap<>();
        kafka.put(BOOTSTRAP_SERVERS, DEFAULT_BOOTSTRAP_SERVERS);
        return kafka;
    }

    public static Properties toProperties(Map<String, String> kafka) {
        Properties props = new Properties();
        props.putAll(kafka);
        return props;
    }
}
