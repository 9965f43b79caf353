package io.tailprobe.aggregator;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What a task's partitions already hold, read again when the task starts: its input samples since
 * the first one of a still-open window, and the base windows it emitted that still-open rollups are
 * made of. A task keeps its open windows in memory only; the records they came from are in Kafka
 * already, so {@link WindowProcessor} rebuilds them from there instead of writing them to a
 * changelog a second time ({@link KafkaTaskHistory}).
 */
interface TaskHistory {
    /** For a topology that never restarts with state, such as under TopologyTestDriver. */
    TaskHistory NONE = new TaskHistory() {
        @Override
        public void samples(int partition, long fromOffset, long toOffsetExclusive, RecordHandler handler) {
            throw new IllegalStateException("no history to replay samples " + fromOffset + ".." + toOffsetExclusive
                    + " of partition " + partition + " from");
        }

        @Override
        public void committedRecords(String topic, int partition, long fromTimestampMillis, RecordHandler handler) {
            throw new IllegalStateException("no history to read " + topic + "-" + partition + " from");
        }
    };

    /** Receives the records read, in offset order. */
    @FunctionalInterface
    interface RecordHandler {
        void record(ConsumerRecord<byte[], byte[]> record);
    }

    /** Every record of {@code latency.samples}' {@code partition} in {@code [fromOffset, toOffsetExclusive)}. */
    void samples(int partition, long fromOffset, long toOffsetExclusive, RecordHandler handler);

    /**
     * Every committed record of {@code topic}'s {@code partition} from the first one with a timestamp
     * at or after {@code fromTimestampMillis} to the partition's end (its last stable offset).
     */
    void committedRecords(String topic, int partition, long fromTimestampMillis, RecordHandler handler);
}
