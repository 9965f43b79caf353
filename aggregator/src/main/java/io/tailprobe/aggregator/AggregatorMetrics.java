package io.tailprobe.aggregator;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * Counters shared by every stream thread of one aggregator, and their Prometheus view:
 * {@code tailprobe_aggregator_samples_total}, {@code tailprobe_aggregator_windows_emitted_total},
 * {@code tailprobe_aggregator_dead_letters_total{reason}}, {@code tailprobe_aggregator_stream_threads_replaced_total}
 * and, once the streams run,
 * {@code tailprobe_aggregator_records_lag_max} (samples not yet read, worst partition).
 */
public final class AggregatorMetrics {
    private final LongAdder samplesIn = new LongAdder();
    private final LongAdder windowsEmitted = new LongAdder();
    private final LongAdder threadsReplaced = new LongAdder();
    private final Map<DeadLetterReason, LongAdder> deadLetters = new EnumMap<>(DeadLetterReason.class);
    private final PrometheusRegistry registry = new PrometheusRegistry();

    public AggregatorMetrics() {
        for (DeadLetterReason reason : DeadLetterReason.values()) {
            deadLetters.put(reason, new LongAdder());
        }
        CounterWithCallback.builder()
                .name("tailprobe_aggregator_samples_total")
                .help("Valid samples added to their windows")
                .callback(cb -> cb.call(samplesIn.sum()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tailprobe_aggregator_windows_emitted_total")
                .help("Closed windows written to latency.histograms.<resolution> (base windows and rollups, per host and fleet-wide)")
                .callback(cb -> cb.call(windowsEmitted.sum()))
                .register(registry);
        CounterWithCallback.builder()
                .name("tailprobe_aggregator_dead_letters_total")
                .help("Records sent to the dead-letter topic, by reason")
                .labelNames("reason")
                .callback(cb -> deadLetters.forEach((reason, count) -> cb.call(count.sum(), reason.header())))
                .register(registry);
        CounterWithCallback.builder()
                .name("tailprobe_aggregator_stream_threads_replaced_total")
                .help("Stream threads that failed while the broker was out of reach and were replaced")
                .callback(cb -> cb.call(threadsReplaced.sum()))
                .register(registry);
    }

    /** Exposes the consumer lag once the Kafka Streams client exists. */
    void lag(DoubleSupplier recordsLagMax) {
        GaugeWithCallback.builder()
                .name("tailprobe_aggregator_records_lag_max")
                .help("The largest number of samples not yet read in any assigned partition")
                .callback(cb -> cb.call(recordsLagMax.getAsDouble()))
                .register(registry);
    }

    void sampleIn() {
        samplesIn.increment();
    }

    void windowEmitted() {
        windowsEmitted.increment();
    }

    void threadReplaced() {
        threadsReplaced.increment();
    }

    public long threadsReplaced() {
        return threadsReplaced.sum();
    }

    void deadLetter(DeadLetterReason reason) {
        deadLetters.get(reason).increment();
    }

    public long samplesIn() {
        return samplesIn.sum();
    }

    public long windowsEmitted() {
        return windowsEmitted.sum();
    }

    public long deadLetters(DeadLetterReason reason) {
        return deadLetters.get(reason).sum();
    }

    public PrometheusRegistry registry() {
        return registry;
    }
}
