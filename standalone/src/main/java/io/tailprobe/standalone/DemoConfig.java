package io.tailprobe.standalone;

import io.tailprobe.common.ConfigException;
import io.tailprobe.common.Durations;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The one-command stack's configuration (same layers as every service: YAML, {@code TAILPROBE_…},
 * {@code --set}).
 *
 * @param broker the embedded broker's client port and data folder (null: temporary, deleted on exit)
 * @param queryApiPort the query API and its dashboard
 * @param agentPort the demo agent's /health, /metrics and /check
 * @param aggregatorPort the aggregator's /health and /metrics
 * @param demo the built-in targets: a steady TCP server answering each line after
 *     {@code steadyDelay}, and a jittery one answering after {@code jitteryBase} plus an
 *     exponential extra of mean {@code jitteryMean}; both probed every {@code interval}
 * @param grace how long a window waits for late samples after it ends
 */
public record DemoConfig(Broker broker, int queryApiPort, int agentPort, int aggregatorPort, Demo demo, Duration grace) {
    public record Broker(int port, Path dataDir) {}

    public record Demo(Duration interval, Duration steadyDelay, Duration jitteryBase, Duration jitteryMean) {}

    public static DemoConfig defaults() {
        return new DemoConfig(new Broker(9092, null), 8080, 9101, 9102,
                new Demo(Duration.ofMillis(200), Duration.ofMillis(20), Duration.ofMillis(5), Duration.ofMillis(10)),
                Duration.ofSeconds(2));
    }

    public DemoConfig validated() {
        port("broker.port", broker.port());
        port("queryApiPort", queryApiPort);
        port("agentPort", agentPort);
        port("aggregatorPort", aggregatorPort);
        positive("demo.interval", demo.interval());
        notNegative("demo.steadyDelay", demo.steadyDelay());
        notNegative("demo.jitteryBase", demo.jitteryBase());
        notNegative("demo.jitteryMean", demo.jitteryMean());
        notNegative("grace", grace);
        return this;
    }

    private static void port(String key, int port) {
        if (port < 0 || port > 65_535) {
            throw new ConfigException(key + " must be in [0, 65535] (0 = any free port), got " + port);
        }
    }

    private static void positive(String key, Duration value) {
        if (!value.isPositive()) {
            throw new ConfigException(key + " must be > 0, got " + Durations.format(value));
        }
    }

    private static void notNegative(String key, Duration value) {
        if (value.isNegative()) {
            throw new ConfigException(key + " must be >= 0, got " + Durations.format(value));
        }
    }
}
