package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.internals.CachedStateStore;
import org.junit.jupiter.api.Test;

/** One {@link WindowProcessor} driven by hand: what Kafka Streams does to it when a commit fails or a task restarts. */
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
            for (ConsumerRecord<byte[], byte[]> record : committedWindows) {
                if (record.topic().equals(topic) && record.timestamp() >= fromTimestampMillis) {
                    handler.record(record);
                }
            }
        }
    };
    /** The windows emitted up to the last commit, as a restarted task reads them back. */
    private final List<ConsumerRecord<byte[], byte[]>> committedWindows = new ArrayList<>();

    @Test
    void a_task_initialized_again_after_a_failed_commit_counts_each_sample_once() {
        CommitHookedStores commitHooks = new CommitHookedStores();
        KeyValueStore<String, Long> checkpoint = checkpointStore(commitHooks);
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

    @Test
    void a_restarted_task_rebuilds_its_open_ten_minute_and_hour_windows_from_the_closed_minutes_exactly() {
        CommitHookedStores commitHooks = new CommitHookedStores();
        KeyValueStore<String, Long> checkpoint = checkpointStore(commitHooks);
        // 14:02 to 15:05, a sample every 5 s; the task commits at 14:27:30 and is killed at 14:41.
        long hour = T0_MILLIS - Math.floorMod(T0_MILLIS, 3_600_000L);
        int samples = (int) ((hour + 65 * 60_000L - T0_MILLIS) / 5_000);
        for (int i = 0; i < samples; i++) {
            input.add(Topics.sampleSerde().encode(sample(T0_MILLIS + i * 5_000L, i)));
        }
        int committedUpTo = (int) ((hour + 27 * 60_000L + 30_000L - T0_MILLIS) / 5_000);
        int killedAt = (int) ((hour + 41 * 60_000L - T0_MILLIS) / 5_000);

        WindowProcessor first = new WindowProcessor(AggregatorConfig.defaults(), new AggregatorMetrics(), commitHooks,
                InputLag.CAUGHT_UP, history);
        first.init(context);
        processOffsets(first, 0, committedUpTo);
        ((CachedStateStore<?, ?>) checkpoint).flushCache();
        List<MockProcessorContext.CapturedForward<? extends String, ? extends byte[]>> beforeCommit =
                List.copyOf(context.forwarded());
        beforeCommit.forEach(forward -> {
            HistogramKey key = HistogramKey.parse(forward.record().key());
            committedWindows.add(new ConsumerRecord<>(Topics.histograms(key.resolutionSeconds()), 0, 0,
                    forward.record().timestamp(), org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0, 0,
                    forward.record().key().getBytes(StandardCharsets.UTF_8), forward.record().value(),
                    new org.apache.kafka.common.header.internals.RecordHeaders(), java.util.Optional.empty()));
        });
        processOffsets(first, committedUpTo, killedAt); // lost with the kill: neither its windows nor its offsets commit

        context.resetForwards();
        WindowProcessor restarted = new WindowProcessor(AggregatorConfig.defaults(), new AggregatorMetrics(), commitHooks,
                InputLag.CAUGHT_UP, history);
        restarted.init(context);
        processOffsets(restarted, committedUpTo, samples);
        input.add(Topics.sampleSerde().encode(sample(hour + 70 * 60_000L, samples))); // closes up to 15:10
        processOffsets(restarted, samples, samples + 1);

        Map<String, Long> counts = new HashMap<>();
        beforeCommit.forEach(f -> counts.merge(f.record().key(), sampleCount(f.record().value()), (a, b) -> -1L));
        context.forwarded().forEach(f -> counts.merge(f.record().key(), sampleCount(f.record().value()), (a, b) -> -1L));
        assertThat(counts).as("every window emitted once").doesNotContainValue(-1L);
        // 10 min windows: 14:00 starts at 14:02, the one open at the commit (14:20) and after; 1 h: 14:02 to 15:00
        assertThat(counts).containsEntry(key(HistogramKey.FLEET, 600, hour), 96L)
                .containsEntry(key(HistogramKey.FLEET, 600, hour + 20 * 60_000L), 120L)
                .containsEntry(key("host-a", 600, hour + 20 * 60_000L), 120L)
                .containsEntry(key(HistogramKey.FLEET, 600, hour + 50 * 60_000L), 120L)
                .containsEntry(key(HistogramKey.FLEET, 3600, hour), 58L * 12)
                .containsEntry(key("host-a", 3600, hour), 58L * 12)
                .containsEntry(key(HistogramKey.FLEET, 60, hour + 27 * 60_000L), 12L);
    }

    private KeyValueStore<String, Long> checkpointStore(CommitHookedStores commitHooks) {
        KeyValueStore<String, Long> checkpoint = WindowProcessor.checkpointStore(commitHooks).withLoggingDisabled().build();
        context.setCurrentSystemTimeMs(T0_MILLIS);
        checkpoint.init(context.getStateStoreContext(), checkpoint);
        context.addStateStore(checkpoint);
        return checkpoint;
    }

    private static String key(String host, int resolutionSeconds, long startMillis) {
        return new HistogramKey(SERIES, host, resolutionSeconds, startMillis).encode();
    }

    private static long sampleCount(byte[] window) {
        return Topics.histogramSerde().decode(window).getSampleCount();
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
