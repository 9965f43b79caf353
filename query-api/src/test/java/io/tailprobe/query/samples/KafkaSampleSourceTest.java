package io.tailprobe.query.samples;

import static io.tailprobe.query.SampleTopic.sample;
import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.SampleTopic;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.junit.jupiter.api.Test;

class KafkaSampleSourceTest {
    private static final long T0_MILLIS = 1_795_442_400_000L; // 2026-11-23T14:00:00Z
    private static final SeriesKey DB = new SeriesKey("db", "tcp", "tcp");
    private static final SeriesKey CACHE = new SeriesKey("cache", "tcp", "tcp");
    private static final Duration SEND_DELAY = Duration.ofSeconds(60);

    private final SampleTopic topic = new SampleTopic();
    private final KafkaSampleSource source = new KafkaSampleSource(topic::consumer, SEND_DELAY, Duration.ofSeconds(10));

    /** One sample a second from hosts a and b, each sent 30 ms after its scheduled start. */
    private void sendEverySecond(SeriesKey series, int fromSecond, int toSecond) {
        for (int second = fromSecond; second < toSecond; second++) {
            for (String host : List.of("a", "b")) {
                long scheduled = T0_MILLIS + second * 1_000L;
                topic.send(sample(series, host, scheduled, 20_000_000L), scheduled + 30);
            }
        }
    }

    private List<LatencySample> read(List<SeriesKey> series, String host, long fromMillis, long toMillis, int limit) {
        List<LatencySample> found = new ArrayList<>();
        try (SampleSource.Cursor cursor = source.open(new SampleQuery(series, host, fromMillis, toMillis, limit))) {
            assertThat(cursor.forEach(found::add)).isEqualTo(found.size());
        }
        return found;
    }

    private static List<Long> scheduledSeconds(List<LatencySample> samples) {
        return samples.stream().map(s -> (s.getScheduledStartMicros() / 1_000L - T0_MILLIS) / 1_000L).toList();
    }

    @Test
    void only_the_series_samples_scheduled_in_the_range_come_back_in_log_order() {
        sendEverySecond(DB, 0, 120);
        sendEverySecond(CACHE, 0, 120);

        List<LatencySample> found = read(List.of(DB), null, T0_MILLIS + 10_000, T0_MILLIS + 20_000, 1_000);

        assertThat(found).hasSize(20).allSatisfy(s -> assertThat(s.getTarget()).isEqualTo("db"));
        assertThat(scheduledSeconds(found)).containsExactly(10L, 10L, 11L, 11L, 12L, 12L, 13L, 13L, 14L, 14L, 15L,
                15L, 16L, 16L, 17L, 17L, 18L, 18L, 19L, 19L);
        assertThat(topic.consumersOpen()).as("every read closes its consumer").isZero();
    }

    @Test
    void a_sample_sent_late_is_found_until_its_record_is_stamped_max_send_delay_after_to() {
        sendEverySecond(DB, 0, 20);
        // scheduled at 19.5 s, sent 50 s later (a slow probe behind a slow broker): still found
        topic.send(sample(DB, "c", T0_MILLIS + 19_500, 50_000_000_000L), T0_MILLIS + 69_500);
        sendEverySecond(DB, 81, 82); // stamped 81.03 s: 61 s after to, so the read stops here
        topic.send(sample(DB, "d", T0_MILLIS + 19_900, 62_000_000_000L), T0_MILLIS + 81_900);

        List<LatencySample> found = read(List.of(DB), null, T0_MILLIS + 18_000, T0_MILLIS + 20_000, 1_000);

        assertThat(found).extracting(LatencySample::getHost).containsExactly("a", "b", "a", "b", "c");
    }

    @Test
    void the_read_stops_at_the_limit_and_at_the_log_end_seen_when_it_started() {
        sendEverySecond(DB, 0, 10);

        assertThat(read(List.of(DB), "b", T0_MILLIS, T0_MILLIS + 60_000, 3)).extracting(LatencySample::getHost)
                .containsExactly("b", "b", "b");

        List<LatencySample> found = new ArrayList<>();
        try (SampleSource.Cursor cursor = source.open(new SampleQuery(List.of(DB), null, T0_MILLIS,
                T0_MILLIS + 60_000, 1_000))) {
            sendEverySecond(DB, 10, 20); // arrives after the read started
            cursor.forEach(found::add);
        }
        assertThat(found).hasSize(20);
    }

    @Test
    void samples_of_every_protocol_asked_for_come_from_each_series_partition() {
        SeriesKey h2 = new SeriesKey("web", "http", "h2");
        SeriesKey http11 = new SeriesKey("web", "http", "http/1.1");
        sendEverySecond(h2, 0, 5);
        sendEverySecond(http11, 0, 5);

        List<LatencySample> found = read(List.of(h2, http11), "a", T0_MILLIS, T0_MILLIS + 5_000, 1_000);

        assertThat(found).hasSize(10).extracting(LatencySample::getProtocol).containsOnly("h2", "http/1.1");
    }

    @Test
    void an_undecodable_record_is_skipped_and_a_missing_topic_reads_nothing() {
        sendEverySecond(DB, 0, 2);
        topic.sendBytes(DB, new byte[] {1, 2, 3}, T0_MILLIS + 1_500);
        sendEverySecond(DB, 2, 3);

        assertThat(read(List.of(DB), null, T0_MILLIS, T0_MILLIS + 5_000, 1_000)).hasSize(6);

        KafkaSampleSource noTopic = new KafkaSampleSource(() -> new MockConsumer<>("earliest"), SEND_DELAY,
                Duration.ofSeconds(1));
        try (SampleSource.Cursor cursor = noTopic.open(new SampleQuery(List.of(DB), null, T0_MILLIS, T0_MILLIS + 1, 1))) {
            assertThat(cursor.forEach(sample -> { })).isZero();
        }
    }
}
