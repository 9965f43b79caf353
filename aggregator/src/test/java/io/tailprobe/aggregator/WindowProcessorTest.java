package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.CachedStateStore;
import org.junit.jupiter.api.Test;

/** One {@link WindowProcessor} driven by hand: what Kafka Streams does to it when a commit fails. */
class WindowProcessorTest {
    private static final SeriesKey SERIES = new SeriesKey("db", "tcp", "tcp");
    /** 2026-11-23T14:02:00Z, the start of a 10 s window. */
    private static final long T0_MILLIS = 1_795_442_520_000L;

    private final MockProcessorContext<String, byte[]> context = new MockProcessorContext<>();
    private final List<byte[]> input = new ArrayList<>();
    /** latency.samples as the task's history reads it back: the records of {@link #input} by offset. */
    private final TaskHistory history = new TaskHistory() {
        @Override
        public void samples(int partition, long fromOffset, long toOffsetExclusive, RecordHandler handler) {
            for (long offset = fromOffset; offset < toOffsetExclusive; offset++) {
                handler.record(new ConsumerRecord<>(Topics.SAMPLES, partition, offset,
                        SERIES.encode().getBytes(StandardCharsets.UTF_8), input.get((int) offset)));
            }
        }

        @Override
        public void committedRecords(String topic, int partition, long fromTimestampMillis, RecordHandler handler) {
            // no window emitted yet
        }
    };

    @Test
    void a_task_initialized_again_after_a_failed_commit_counts_each_sample_once() {
        CommitHookedStores commitHooks = new CommitHookedStores();
        KeyValueStore<String, Long> checkpoint = Stores.keyValueStoreBuilder(
                commitHooks.wrap(Stores.inMemoryKeyValueStore(WindowProcessor.CHECKPOINT_STORE)),
                Serdes.String(), Serdes.Long()).withLoggingDisabled().build();
        context.setCurrentSystemTimeMs(T0_MILLIS);
        checkpoint.init(context.getStateStoreContext(), checkpoint);
        context.addStateStore(checkpoint);
        WindowProcessor processor = new WindowProcessor(AggregatorConfig.defaults(), new AggregatorMetrics(), commitHooks,
                InputLag.CAUGHT_UP, history);
        for (int i = 0; i < 8; i++) {
            input.add(Topics.sampleSerde().encode(sample(T0_MILLIS + i * 1_000L, i)));
        }

        // Step 1: five samples processed and committed (the checkpoint is written just before the commit),
        // three more processed, then the commit fails.
        processor.init(context);
        processOffsets(processor, 0, 5);
        ((CachedStateStore<?, ?>) checkpoint).flushCache();
        processOffsets(processor, 5, 8);

        // Step 2: Streams closes the task dirty and initializes the same processor again: it rebuilds the
        // committed window from the history and reads the uncommitted samples again.
        processor.init(context);
        processOffsets(processor, 5, 8);
        input.add(Topics.sampleSerde().encode(sample(T0_MILLIS + 20_000, 8))); // closes the first window
        processOffsets(processor, 8, 9);

        String fleetWindow = new HistogramKey(SERIES, HistogramKey.FLEET, 10, T0_MILLIS).encode();
        assertThat(context.forwarded()).filteredOn(f -> f.record().key().equals(fleetWindow))
                .extracting(f -> Topics.histogramSerde().decode(f.record().value()).getSampleCount())
                .containsExactly(8L);
    }

    private void processOffsets(WindowProcessor processor, int fromOffset, int toOffsetExclusive) {
        for (int offset = fromOffset; offset < toOffsetExclusive; offset++) {
            context.setRecordMetadata(Topics.SAMPLES, 0, offset);
            processor.process(new Record<>(SERIES.encode(), input.get(offset), T0_MILLIS));
        }
    }

    private static LatencySample sample(long scheduledMillis, long sequence) {
        return LatencySample.newBuilder()
                .setHost("host-a").setTarget(SERIES.target()).setAddress("127.0.0.1:5432")
                .setProbeType(SERIES.probeType()).setProtocol(SERIES.protocol())
                .setScheduledStartMicros(scheduledMillis * 1_000L).setActualStartMicros(scheduledMillis * 1_000L)
                .setServiceTimeNanos(2_000_000L).setResponseTimeNanos(2_000_000L)
                .setOutcome(Outcome.OK).setSequence(sequence)
                .build();
    }
}
