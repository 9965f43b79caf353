package io.tailprobe.agent;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.tailprobe.agent.spool.Spool;
import io.tailprobe.common.PrometheusText;
import io.tailprobe.schemas.Outcome;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The agent's own metrics, in a registry of its own (two agents in one JVM, as in tests, do not
 * collide). Schedule lag is actual start minus scheduled start: a lag of 0.026 s on a 10 ms
 * schedule means the probe waited for more than two slots behind a slow predecessor.
 *
 * <p>The spool's figures answer "is this agent in an outage, and what will it lose": after a 60 s
 * broker outage at 100 samples/s, {@code tailprobe_agent_samples_spooled_total} has grown by about
 * 6,000, {@code tailprobe_agent_spool_samples} and {@code tailprobe_agent_spool_oldest_sample_age_seconds}
 * fall back to 0 once Kafka has acknowledged them all, and
 * {@code tailprobe_agent_spool_samples_dropped_total} stays 0 unless the spool hit {@code maxBytes}
 * or {@code maxAge}.
 */
public final class AgentMetrics {
    /** Lag buckets from 100 µs (scheduler jitter) to 10 s (a backlog about to be skipped). */
    private static final double[] LAG_BUCKETS_SECONDS =
            {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final LongAdder samplesSentCount = new LongAdder();
    private final LongAdder samplesProbedCount = new LongAdder();

    // The metrics touched by every probe carry no exemplars: the agent has no tracer whose span ids an
    // exemplar could hold, and the client's exemplar sampler still schedules a task on its own thread
    // about once per observation (3% of the agent's CPU at 5,000 probes/s; docs/PERFORMANCE.md).
    private final Counter probes = Counter.builder()
            .name("tailprobe_agent_probes_total")
            .help("Probes completed, by target, probe type and outcome")
            .labelNames("target", "type", "outcome")
            .withoutExemplars()
            .register(registry);
    private final Histogram scheduleLag = Histogram.builder()
            .name("tailprobe_agent_schedule_lag_seconds")
            .help("Actual start minus scheduled start of each probe")
            .unit(Unit.SECONDS)
            .labelNames("target")
            .classicOnly()
            .classicUpperBounds(LAG_BUCKETS_SECONDS)
            .withoutExemplars()
            .register(registry);
    private final Gauge inFlight = Gauge.builder()
            .name("tailprobe_agent_probes_in_flight")
            .help("Probes running now")
            .withoutExemplars()
            .register(registry);
    private final Counter slotsSkipped = Counter.builder()
            .name("tailprobe_agent_slots_skipped_total")
            .help("Schedule slots skipped because the target's backlog exceeded the bound; these got no sample")
            .labelNames("target")
            .register(registry);
    private final Counter samplesSent = Counter.builder()
            .name("tailprobe_agent_samples_sent_total")
            .help("Samples acknowledged by the sink (Kafka: acks=all)")
            .withoutExemplars()
            .register(registry);
    private final Counter sendFailures = Counter.builder()
            .name("tailprobe_agent_sample_send_failures_total")
            .help("Sends the sink reported as failed; with the spool the sample is kept and sent again")
            .register(registry);
    private final Counter samplesDropped = Counter.builder()
            .name("tailprobe_agent_samples_dropped_total")
            .help("Samples dropped because the hand-off queue to the sink was full")
            .register(registry);
    private final Counter samplesSpooled = Counter.builder()
            .name("tailprobe_agent_samples_spooled_total")
            .help("Samples written to the on-disk spool because Kafka was unreachable or slow, or earlier samples were still spooled")
            .register(registry);
    private final Counter spoolDropped = Counter.builder()
            .name("tailprobe_agent_spool_samples_dropped_total")
            .help("Spooled samples dropped unsent, by reason: full (maxBytes, oldest first), age (older than maxAge), "
                    + "corrupt (unreadable record, e.g. torn by a crash), write_error (the disk refused the write)")
            .labelNames("reason")
            .register(registry);
    private volatile Spool spool;

    private final Counter configReloads = Counter.builder()
            .name("tailprobe_agent_config_reloads_total")
            .help("Configuration reloads after the file changed, by result (applied or rejected; a rejected one keeps the running config)")
            .labelNames("result")
            .register(registry);

    public AgentMetrics() {
        for (Spool.DropReason reason : Spool.DropReason.values()) {
            spoolDropped.labelValues(reason.label()); // every reason shows, at 0, before its first drop
        }
        spoolGauge("tailprobe_agent_spool_samples", "Samples in the spool not yet acknowledged by Kafka", null,
                Spool::depth);
        spoolGauge("tailprobe_agent_spool_bytes", "Bytes of spooled samples not yet acknowledged (the maxBytes limit; "
                + "the files hold at most one segment more)", Unit.BYTES, Spool::bytes);
        spoolGauge("tailprobe_agent_spool_oldest_sample_age_seconds",
                "Now minus the scheduled start of the oldest spooled sample; 0 when the spool is empty", Unit.SECONDS,
                Spool::oldestSampleAgeSeconds);
    }

    /** A gauge read from the watched spool at each scrape; no value while there is none. */
    private void spoolGauge(String name, String help, Unit unit, ToDoubleFunction<Spool> value) {
        GaugeWithCallback.Builder gauge = GaugeWithCallback.builder().name(name).help(help).callback(callback -> {
            Spool watched = spool;
            if (watched != null) {
                callback.call(value.applyAsDouble(watched));
            }
        });
        if (unit != null) {
            gauge.unit(unit);
        }
        gauge.register(registry);
    }

    /** Reports {@code spool}'s depth, bytes and oldest age from now on. */
    public void watchSpool(Spool spool) {
        this.spool = spool;
    }

    public void configReloaded(boolean applied) {
        configReloads.labelValues(applied ? "applied" : "rejected").inc();
    }

    public double configReloads(boolean applied) {
        return configReloads.labelValues(applied ? "applied" : "rejected").get();
    }

    public void probeCompleted(String target, String type, Outcome outcome) {
        samplesProbedCount.increment();
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

    public void sampleSpooled() {
        samplesSpooled.inc();
    }

    public void spoolDropped(Spool.DropReason reason, long count) {
        spoolDropped.labelValues(reason.label()).inc(count);
    }

    public double samplesSpooled() {
        return samplesSpooled.get();
    }

    public double spoolDropped(Spool.DropReason reason) {
        return spoolDropped.labelValues(reason.label()).get();
    }

    public double sendFailures() {
        return sendFailures.get();
    }

    /** Probes completed, each of which became a sample. */
    public long samplesProbed() {
        return samplesProbedCount.sum();
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
