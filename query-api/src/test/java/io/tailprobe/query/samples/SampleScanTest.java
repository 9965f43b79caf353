package io.tailprobe.query.samples;

import static io.tailprobe.query.SampleTopic.sample;
import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.SampleTopic;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class SampleScanTest {
    private static final long T0_MILLIS = 1_795_442_400_000L; // 2026-11-23T14:00:00Z
    private static final SeriesKey DB = new SeriesKey("db", "tcp", "tcp");
    private static final SeriesKey CACHE = new SeriesKey("cache", "tcp", "tcp");

    private final SampleTopic topic = new SampleTopic();

    /** One sample a second of each series for 10 minutes, each stamped 30 ms after its scheduled start. */
    private void sendTenMinutes() {
        for (int second = 0; second < 600; second++) {
            for (SeriesKey series : List.of(DB, CACHE)) {
                long scheduled = T0_MILLIS + second * 1_000L;
                topic.send(sample(series, "a", scheduled, 20_000_000L), scheduled + 30);
            }
        }
    }

    @Test
    void every_partition_is_read_from_the_first_record_stamped_at_from_to_the_first_a_minute_past_to() {
        sendTenMinutes();
        List<ConsumerRecord<String, byte[]>> read = new ArrayList<>();

        try (SampleScan<String> scan = SampleScan.open(topic.consumer(), Topics.SAMPLES,
                partitions -> IntStream.range(0, partitions).boxed().toList(), T0_MILLIS + 60_000, T0_MILLIS + 120_000,
                Duration.ofMinutes(1), Duration.ofSeconds(5))) {
            assertThat(scan.partitionCount()).isEqualTo(SampleTopic.PARTITIONS);
            assertThat(scan.coveredFraction()).isZero();
            while (scan.poll(Duration.ofMillis(50), read::add)) {
                assertThat(scan.coveredFraction()).isBetween(0.0, 1.0);
            }
            assertThat(scan.done()).isTrue();
            assertThat(scan.coveredFraction()).isEqualTo(1.0);
            assertThat(scan.recordsRead()).isEqualTo(read.size());
        }

        // stamps 14:01:00.030 .. 14:02:59.030: the range and the minute after it, of both series
        assertThat(read).hasSize(2 * 120);
        assertThat(read.getFirst().timestamp()).isGreaterThanOrEqualTo(T0_MILLIS + 60_000);
        assertThat(read).allSatisfy(record -> assertThat(record.timestamp()).isLessThan(T0_MILLIS + 180_000));
    }

    @Test
    void only_the_partitions_asked_for_are_read_and_a_missing_topic_has_no_partitions() {
        sendTenMinutes();
        int dbPartition = Topics.seriesPartition(DB, SampleTopic.PARTITIONS);
        List<ConsumerRecord<String, byte[]>> read = new ArrayList<>();

        try (SampleScan<String> scan = SampleScan.open(topic.consumer(), Topics.SAMPLES, partitions -> List.of(dbPartition),
                T0_MILLIS, T0_MILLIS + 10_000, Duration.ZERO, Duration.ofSeconds(5))) {
            while (scan.poll(Duration.ofMillis(50), read::add)) {
                // reading
            }
        }
        try (SampleScan<String> missing = SampleScan.open(topic.consumer(), "no.such.topic",
                partitions -> List.of(0), T0_MILLIS, T0_MILLIS + 10_000, Duration.ZERO, Duration.ofSeconds(5))) {
            assertThat(missing.partitionCount()).isZero();
            assertThat(missing.done()).isTrue();
        }

        assertThat(read).allSatisfy(record -> assertThat(record.partition()).isEqualTo(dbPartition)).isNotEmpty();
        assertThat(topic.consumersOpen()).isZero();
    }
}
