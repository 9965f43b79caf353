package io.tailprobe.aggregator;

import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * The aggregator's processor ({@link WindowProcessor}) driven on the calling thread without Kafka, for
 * the benchmark: its own cost per sample, apart from the engine's and the broker's. Lives in the
 * aggregator's package, in the bench module only, to reach the package-private processor.
 */
public final class ProcessorAlone {
    private ProcessorAlone() {}

    /**
     * Feeds {@code samples} records (key and value of each by index) to a fresh processor with the
     * aggregator's default config, writing its checkpoint every {@code commitEvery} records as a commit
     * would, and dropping what it forwards as it goes.
     *
     * @return the windows and dead letters it forwarded
     */
    public static long run(int samples, IntFunction<String> keys, IntFunction<byte[]> values, int commitEvery) {
        return run(samples, keys, values, commitEvery, AggregatorConfig.defaults());
    }

    /** As {@link #run(int, IntFunction, IntFunction, int)} with the base windows only: no rollups. */
    public static long runBaseOnly(int samples, IntFunction<String> keys, IntFunction<byte[]> values, int commitEvery) {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        AggregatorConfig.Window window = defaults.window();
        return run(samples, keys, values, commitEvery, new AggregatorConfig(defaults.kafka(), defaults.streams(),
                new AggregatorConfig.Window(window.size(), window.grace(), window.idleClose(), List.of(),
                        Map.of("10s", window.retention().get("10s"))), defaults.topics(), defaults.maxLatency()));
    }

    private static long run(int samples, IntFunction<String> keys, IntFunction<byte[]> values, int commitEvery,
                            AggregatorConfig config) {
        MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
        context.setCurrentSystemTimeMs(System.currentTimeMillis());
        CommitHookedStores commitHooks = new CommitHookedStores();
        KeyValueStore<String, Long> checkpoint = WindowProcessor.checkpointStore(commitHooks).withLoggingDisabled().build();
        checkpoint.init(context.getStateStoreContext(), checkpoint);
        context.addStateStore(checkpoint);
        WindowProcessor processor = new WindowProcessor(config, new AggregatorMetrics(), commitHooks,
                InputLag.CAUGHT_UP, TaskHistory.NONE);
        processor.init(context);
        long forwarded = 0;
        for (int i = 0; i < samples; i++) {
            context.setRecordMetadata("latency.samples", 0, i);
            processor.process(new Record<>(keys.apply(i), values.apply(i), 0L));
            if (i % commitEvery == commitEvery - 1) {
                ((CachedStateStore<?, ?>) checkpoint).flushCache();
                forwarded += context.forwarded().size();
                context.resetForwards();
            }
        }
        return forwarded + context.forwarded().size();
    }
}
