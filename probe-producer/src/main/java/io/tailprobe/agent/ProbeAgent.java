package io.tailprobe.agent;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.probe.udp.UdpEchoResponder;
import io.tailprobe.agent.schedule.Pacer;
import io.tailprobe.agent.schedule.PersistentSequence;
import io.tailprobe.agent.schedule.Ticker;
import io.tailprobe.agent.sink.KafkaSampleSink;
import io.tailprobe.agent.sink.SampleSink;
import io.tailprobe.agent.sink.SinkQueue;
import io.tailprobe.agent.spool.Spool;
import io.tailprobe.common.ConfigException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running probe agent: one virtual thread per target running its {@link Pacer}, a
 * {@link SinkQueue} feeding the sink, and the {@code /health}, {@code /metrics} and {@code /check}
 * endpoints. {@link #reload(AgentConfig)} applies a changed target list without a restart. Sending to
 * Kafka, it spools to {@code spool.directory} while Kafka is unreachable, and numbers samples with a
 * {@link PersistentSequence} kept there, so a restart goes on where the last run stopped.
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

    /** A target instance being probed, its pacer and the pacer's thread. */
    private record Running(PlannedTarget planned, Pacer pacer, Thread thread) {}

    private final String agentId;
    private final AgentMetrics metrics;
    private final SinkQueue sinkQueue;
    private final Spool spool;
    private final Ticker ticker;
    private final LongSupplier sequence;
    private final Map<String, Running> running = new LinkedHashMap<>();
    private final AgentHttpServer http;
    private final UdpEchoResponder udpEcho;
    private AgentConfig config;
    private boolean closed;

    /** The spool and sequence of an agent sending to Kafka; none for other sinks. */
    private record Durable(Spool spool, PersistentSequence sequence) {
        void close() {
            if (spool != null) {
                spool.close();
            }
        }
    }

    private ProbeAgent(AgentConfig config, List<PlannedTarget> targets, SampleSink sink, AgentMetrics metrics,
                       Durable durable, Ticker ticker) {
        this.agentId = config.agent().id();
        this.config = config;
        this.ticker = ticker;
        this.metrics = metrics;
        this.sequence = durable.sequence() != null ? durable.sequence() : new AtomicLong()::getAndIncrement;
        this.spool = durable.spool();
        this.http = new AgentHttpServer(config.http().port(), agentId, this::targetCount, metrics, this::checkAll);
        try {
            http.start();
        } catch (RuntimeException e) {
            sink.close();
            durable.close();
            throw new ConfigException("cannot serve HTTP on port " + config.http().port() + " (http.port): "
                    + e.getMessage(), e);
        }
        this.udpEcho = startUdpEcho(config.udpEcho(), sink, durable);
        this.sinkQueue = new SinkQueue(sink, metrics, SinkQueue.DEFAULT_CAPACITY, durable.spool(),
                SinkQueue.OutageRule.DEFAULT);
        long startNanos = ticker.nanoTime();
        for (PlannedTarget target : targets) {
            startPacer(target, startNanos);
        }
        if (targets.isEmpty()) {
            LOG.warn("agent {} has no targets configured", agentId);
        }
    }

    private UdpEchoResponder startUdpEcho(AgentConfig.UdpEcho echo, SampleSink sink, Durable durable) {
        if (echo == null) {
            return null;
        }
        try {
            UdpEchoResponder responder = UdpEchoResponder.start(new InetSocketAddress(echo.bind(), echo.port()));
            LOG.info("agent {} answers UDP echo on {}:{}", agentId, echo.bind(), responder.port());
            return responder;
        } catch (RuntimeException e) {
            http.close();
            sink.close();
            durable.close();
            throw new ConfigException("cannot answer UDP echo on " + echo.bind() + ":" + echo.port()
                    + " (udpEcho.port): " + e.getMessage(), e);
        }
    }

    /** Starts a target's schedule at its phase after {@code startNanos} (see {@link Pacer#phaseNanos}). */
    private void startPacer(PlannedTarget planned, long startNanos) {
        long phaseNanos = Pacer.phaseNanos(agentId, planned.key(), planned.interval());
        Pacer pacer = new Pacer(agentId, planned, ticker, startNanos + phaseNanos, Pacer.DEFAULT_MAX_BACKLOG, sequence,
                metrics, sinkQueue);
        Thread thread = Thread.ofVirtual().name("pacer-" + planned.key()).start(pacer);
        running.put(planned.key(), new Running(planned, pacer, thread));
    }

    private void stopPacers(List<Running> stopping) {
        stopping.forEach(r -> r.pacer().stop());
        stopping.forEach(r -> r.thread().interrupt());
        for (Running r : stopping) {
            try {
                if (!r.thread().join(STOP_TIMEOUT)) {
                    LOG.warn("{} did not stop within {}", r.thread().getName(), STOP_TIMEOUT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            r.planned().probe().close();
        }
    }

    /**
     * Validates the configuration and starts probing, sending samples to Kafka, spooling them in
     * {@code spool.directory} while Kafka is unreachable or slow; samples an earlier run spooled go first.
     *
     * @throws ConfigException for a bad configuration, naming the key and the rule, or a spool directory
     *     that cannot be written or is in use by another agent, naming the path
     */
    public static ProbeAgent start(AgentConfig config) {
        List<PlannedTarget> targets = config.plan();
        AgentMetrics metrics = new AgentMetrics();
        Durable durable;
        try {
            durable = openDurable(config, metrics);
        } catch (ConfigException e) {
            targets.forEach(t -> t.probe().close());
            throw e;
        }
        KafkaSampleSink sink;
        try {
            sink = new KafkaSampleSink(config.kafka(), "tailprobe-agent-" + config.agent().id());
        } catch (KafkaException e) {
            durable.close();
            throw new ConfigException("kafka: cannot create the producer: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
        return new ProbeAgent(config, targets, sink, metrics, durable, Ticker.system());
    }

    private static Durable openDurable(AgentConfig config, AgentMetrics metrics) {
        Path directory = config.spoolDirectory();
        Spool spool;
        try {
            spool = Spool.open(directory, config.spool().maxBytes(), config.spool().maxAge(),
                    Spool.DEFAULT_SEGMENT_BYTES, metrics, Clock.systemUTC());
        } catch (IOException e) {
            throw new ConfigException("spool.directory " + directory + " cannot be used: " + e, e);
        }
        try {
            return new Durable(spool, PersistentSequence.open(directory.resolve("sequence")));
        } catch (IOException e) {
            spool.close();
            throw new ConfigException("spool.directory " + directory + ": cannot keep the sample sequence: " + e, e);
        }
    }

    /**
     * Starts with another sink, e.g. an in-memory one in tests; the agent closes the sink on {@link #close()}.
     * No spool: what the sink fails to take is counted and lost, and the sequence starts at 0.
     */
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
        return new ProbeAgent(config, targets, sink, new AgentMetrics(), new Durable(null, null), ticker);
    }

    /**
     * Applies a changed configuration's targets: removed and changed targets stop, new and changed
     * ones start on a fresh schedule, unchanged ones go on undisturbed. A configuration that does
     * not validate is rejected whole: the running targets stay, the error is logged and counted in
     * {@code tailprobe_agent_config_reloads_total{result="rejected"}}. Changes outside
     * {@code targets} and {@code defaults} (agent id, kafka, http, spool) take a restart and are only logged.
     *
     * @return true when applied
     */
    public synchronized boolean reload(AgentConfig newConfig) {
        return apply(newConfig, true);
    }

    /**
     * Expands {@code fileSd} and {@code resolve} targets again (DNS answers and files change) and
     * applies the difference like a reload: new instances start, vanished ones stop.
     */
    public synchronized void refreshTargetSources() {
        if (config.targets().stream().anyMatch(TargetSources::expands)) {
            apply(config, false);
        }
    }

    private boolean apply(AgentConfig newConfig, boolean countAsReload) {
        if (closed) {
            return false;
        }
        List<PlannedTarget> planned;
        try {
            planned = newConfig.plan();
        } catch (RuntimeException e) {
            metrics.configReloaded(false);
            LOG.error("configuration change rejected, still probing the previous {} targets: {}", running.size(),
                    e.getMessage());
            return false;
        }
        if (!Objects.equals(newConfig.agent(), config.agent()) || !Objects.equals(newConfig.kafka(), config.kafka())
                || !Objects.equals(newConfig.http(), config.http()) || !Objects.equals(newConfig.spool(), config.spool())) {
            LOG.warn("agent, kafka, http and spool settings change only on restart; applying the target changes now");
        }
        Map<String, PlannedTarget> byKey = new LinkedHashMap<>();
        planned.forEach(p -> byKey.put(p.key(), p));
        List<Running> stopping = new ArrayList<>();
        for (Running r : running.values()) {
            PlannedTarget next = byKey.get(r.planned().key());
            if (next == null || !sameSchedule(r.planned(), next)) {
                stopping.add(r);
            }
        }
        stopPacers(stopping);
        stopping.forEach(r -> running.remove(r.planned().key()));
        long startNanos = ticker.nanoTime();
        int started = 0;
        for (PlannedTarget next : byKey.values()) {
            if (running.containsKey(next.key())) {
                next.probe().close(); // the running instance keeps its own probe
            } else {
                startPacer(next, startNanos);
                started++;
            }
        }
        config = newConfig;
        if (countAsReload) {
            metrics.configReloaded(true);
        }
        if (countAsReload || started > 0 || !stopping.isEmpty()) {
            LOG.info("targets updated: {} stopped, {} started, {} running", stopping.size(), started, running.size());
        }
        return true;
    }

    /** Unchanged means the same configured target and the same effective interval, timeout and labels. */
    private static boolean sameSchedule(PlannedTarget current, PlannedTarget next) {
        return Objects.equals(current.source(), next.source()) && current.interval().equals(next.interval())
                && current.timeout().equals(next.timeout()) && current.labels().equals(next.labels());
    }

    /** Probes every running target once now with fresh probes; the results are not sent. */
    public List<Map<String, Object>> checkAll() throws InterruptedException {
        AgentConfig current;
        synchronized (this) {
            current = config;
        }
        return TargetCheck.run(current.plan());
    }

    public String agentId() {
        return agentId;
    }

    public synchronized int targetCount() {
        return running.size();
    }

    /** The target instances being probed (name, plus the address of an expanded one), in start order. */
    public synchronized List<String> targetNames() {
        return List.copyOf(running.keySet());
    }

    /** The port of {@code /health}, {@code /metrics} and {@code /check}: the bound one when configured as 0. */
    public int httpPort() {
        return http.port();
    }

    /** The UDP echo port other agents probe, or -1 when this agent answers none. */
    public int udpEchoPort() {
        return udpEcho == null ? -1 : udpEcho.port();
    }

    /** Samples the sink has acknowledged so far (for Kafka: written with {@code acks=all}). */
    public long samplesSent() {
        return metrics.samplesSent();
    }

    public AgentMetrics metrics() {
        return metrics;
    }

    /**
     * Stops the schedules (an in-flight probe is abandoned), sends queued samples (what Kafka has not
     * acknowledged within 10 s stays in the spool for the next start), closes the sink, stops HTTP.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopPacers(List.copyOf(running.values()));
        running.clear();
        if (udpEcho != null) {
            udpEcho.close();
        }
        try {
            sinkQueue.close();
        } finally {
            http.close();
        }
        LOG.info("agent {} stopped: {} samples probed, {} sent, {} left in the spool", agentId, metrics.samplesProbed(),
                metrics.samplesSent(), spool == null ? 0 : spool.depth());
    }
}
