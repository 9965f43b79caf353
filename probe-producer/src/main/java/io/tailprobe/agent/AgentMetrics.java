package io.tailprobe.agent;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.tailprobe.common.PrometheusText;
import io.tailprobe.schemas.Outcome;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agent's own metrics, in a registry of its own (two agents in one JVM, as in tests, do not
 * collide). Schedule lag is actual start minus scheduled start: a lag of 0.026 s on a 10 ms
 * schedule means the probe waited for more than two slots behind a slow predecessor.
 */
public final class AgentMetrics {
    /** Lag buckets from 100 µs (scheduler jitter) to 10 s (a backlog about to be skipped). */
    private static final double[] LAG_BUCKETS_SECONDS =
            {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final LongAdder samplesSentCount = new LongAdder();

    private final Counter probes = Counter.builder()
            .name("tailprobe_agent_probes_total")
            .help("Probes completed, by target, probe type and outcome")
            .labelNames("target", "type", "outcome")
            .register(registry);
    private final Histogram scheduleLag = Histogram.builder()
            .name("tailprobe_agent_schedule_lag_seconds")
            .help("Actual start minus scheduled start of each probe")
            .unit(Unit.SECONDS)
            .labelNames("target")
            .classicOnly()
            .classicUpperBounds(LAG_BUCKETS_SECONDS)
            .register(registry);
    private final Gauge inFlight = Gauge.builder()
            .name("tailprobe_agent_probes_in_flight")
            .help("Probes running now")
            .register(registry);
    private final Counter slotsSkipped = Counter.builder()
            .name("tailprobe_agent_slots_skipped_total")
            .help("Schedule slots skipped because the target's backlog exceeded the bound; these got no sample")
            .labelNames("target")
            .register(registry);
    private final Counter samplesSent = Counter.builder()
            .name("tailprobe_agent_samples_sent_total")
            .help("Samples acknowledged by the sink (Kafka: acks=all)")
            .register(registry);
    private final Counter sendFailures = Counter.builder()
            .name("tailprobe_agent_sample_send_failures_total")
            .help("Samples the sink failed to deliver")
            .register(registry);
    private final Counter samplesDropped = Counter.builder()
            .name("tailprobe_agent_samples_dropped_total")
            .help("Samples dropped because the hand-off queue to the sink was full")
            .register(registry);

    private final Counter configReloads = Counter.builder()
            .name("tailprobe_agent_config_reloads_total")
            .help("Configuration reloads after the file changed, by result (applied or rejected; a rejected one keeps the running config)")
            .labelNames("result")
            .register(registry);

    public void configReloaded(boolean applied) {
        configReloads.labelValues(applied ? "applied" : "rejected").inc();
    }

    public double configReloads(boolean applied) {
        return configReloads.labelValues(applied ? "applied" : "rejected").get();
    }

    public void probeCompleted(String target, String type, Outcome outcome) {
        probes.labelValues(target, type, outcome.name()).inc();
    }

    public void scheduleLag(String target, long lagNanos) {
        scheduleLag.labelValues(target).observe(lagNanos / 1e9);
    }

    public void probeStarted() {
        inFlight.inc();
    }

    public double probesInFlight() {
        return inFlight.get();
    }

    public void probeEnded() {
        inFlight.dec();
    }

    public void slotsSkipped(String target, long count) {
        slotsSkipped.labelValues(target).inc(count);
    }

    public void sampleSent() {
        samplesSentCount.increment();
        samplesSent.inc();
    }

    public void sendFailed() {
        sendFailures.inc();
    }

    public void sampleDropped() {
        samplesDropped.inc();
    }

    public long samplesSent() {
        return samplesSentCount.sum();
    }

    public double probes(String target, String type, Outcome outcome) {
        return probes.labelValues(target, type, outcome.name()).get();
    }

    public double slotsSkipped(String target) {
        return slotsSkipped.labelValues(target).get();
    }

    public double samplesDropped() {
        return samplesDropped.get();
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public String contentType() {
        return PrometheusText.contentType();
    }

    /** The Prometheus text exposition of every metric. */
    public byte[] scrape() {
        return PrometheusText.scrape(registry);
    }
}
