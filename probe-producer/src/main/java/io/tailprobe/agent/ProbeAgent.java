package io.tailprobe.agent;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.schedule.Pacer;
import io.tailprobe.agent.schedule.Ticker;
import io.tailprobe.agent.sink.KafkaSampleSink;
import io.tailprobe.agent.sink.SampleSink;
import io.tailprobe.agent.sink.SinkQueue;
import io.tailprobe.common.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running probe agent: one virtual thread per target running its {@link Pacer}, a
 * {@link SinkQueue} feeding the sink, and the {@code /health} and {@code /metrics} endpoints.
 *
 * <pre>{@code
 * try (ProbeAgent agent = ProbeAgent.start(AgentConfig.defaultConfig().withHttpPort(0))) {
 *     System.out.println("metrics at http://localhost:" + agent.httpPort() + "/metrics");
 * }
 * }</pre>
 */
public final class ProbeAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeAgent.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private final String agentId;
    private final List<PlannedTarget> targets;
    private final AgentMetrics metrics;
    private final SinkQueue sinkQueue;
    private final List<Pacer> pacers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AgentHttpServer http;
    private boolean closed;

    private ProbeAgent(AgentConfig config, List<PlannedTarget> targets, SampleSink sink, Ticker ticker) {
        this.agentId = config.agent().id();
        this.targets = targets;
        this.metrics = new AgentMetrics();
        this.http = new AgentHttpServer(config.http().port(), agentId, targets.size(), metrics);
        try {
            http.start();
        } catch (RuntimeException e) {
            sink.close();
            throw new ConfigException("cannot serve HTTP on port " + config.http().port() + " (http.port): "
                    + e.getMessage(), e);
        }
        this.sinkQueue = new SinkQueue(sink, metrics, SinkQueue.DEFAULT_CAPACITY);
        AtomicLong sequence = new AtomicLong();
        long startNanos = ticker.nanoTime();
        for (PlannedTarget target : targets) {
            Pacer pacer = new Pacer(agentId, target, ticker, startNanos, Pacer.DEFAULT_MAX_BACKLOG, sequence,
                    metrics, sinkQueue);
            pacers.add(pacer);
            threads.add(Thread.ofVirtual().name("pacer-" + target.name()).start(pacer));
        }
        if (targets.isEmpty()) {
            LOG.warn("agent {} has no targets configured", agentId);
        }
    }

    /**
     * Validates the configuration and starts probing, sending samples to Kafka.
     *
     * @throws ConfigException for a bad configuration, naming the key and the rule
     */
    public static ProbeAgent start(AgentConfig config) {
        List<PlannedTarget> targets = config.plan();
        KafkaSampleSink sink;
        try {
            sink = new KafkaSampleSink(config.kafka(), "tailprobe-agent-" + config.agent().id());
        } catch (KafkaException e) {
            throw new ConfigException("kafka: cannot create the producer: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
        return new ProbeAgent(config, targets, sink, Ticker.system());
    }

    /** Starts with another sink, e.g. an in-memory one in tests; the agent closes the sink on {@link #close()}. */
    public static ProbeAgent start(AgentConfig config, SampleSink sink) {
        return start(config, sink, Ticker.system());
    }

    /** Starts with another sink and time source. */
    public static ProbeAgent start(AgentConfig config, SampleSink sink, Ticker ticker) {
        List<PlannedTarget> targets;
        try {
            targets = config.plan();
        } catch (RuntimeException e) {
            sink.close();
            throw e;
        }
        return new ProbeAgent(config, targets, sink, ticker);
    }

    public String agentId() {
        return agentId;
    }

    public int targetCount() {
        return targets.size();
    }

    /** The port of {@code /health} and {@code /metrics}: the bound one when configured as 0. */
    public int httpPort() {
        return http.port();
    }

    /** Samples the sink has acknowledged so far (for Kafka: written with {@code acks=all}). */
    public long samplesSent() {
        return metrics.samplesSent();
    }

    public AgentMetrics metrics() {
        return metrics;
    }

    /** Stops the schedules (an in-flight probe is abandoned), sends queued samples, closes the sink, stops HTTP. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        pacers.forEach(Pacer::stop);
        threads.forEach(Thread::interrupt);
        for (Thread thread : threads) {
            try {
                if (!thread.join(STOP_TIMEOUT)) {
                    LOG.warn("{} did not stop within {}", thread.getName(), STOP_TIMEOUT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try {
            sinkQueue.close();
        } finally {
            http.close();
        }
        LOG.info("agent {} stopped after {} samples sent", agentId, metrics.samplesSent());
    }
}
