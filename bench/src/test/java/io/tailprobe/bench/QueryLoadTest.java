package io.tailprobe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class QueryLoadTest {
    /** A first window at hh:47:30, as the load's: one day and a bit before a 14:47:30 end. */
    private static final long START_MILLIS = 1_764_600_000_000L / 3_600_000L * 3_600_000L + 47 * 60_000L + 30_000L;

    /**
     * The live writer goes on where the load (or the last live run) stopped by replaying each series'
     * random stream: what it writes next must be, to the byte, what one writer going on without a stop
     * writes, 10 s windows and the 1 min, 10 min and 1 h rollups they close alike, resumed mid-minute, on a
     * minute, on the hour and in the first window of an hour.
     */
    @ParameterizedTest
    @ValueSource(longs = {0, 30_000L, 12 * 60_000L + 30_000L, 12 * 60_000L + 40_000L, 72 * 60_000L + 30_000L})
    void aResumedSeriesWritesWhatAnUnstoppedOneWrites(long resumeAfterMillis) {
        long resumeMillis = START_MILLIS + 3_600_000L + resumeAfterMillis; // 14:47:30 + …
        long endMillis = resumeMillis + 2 * 3_600_000L + 20_000L;
        MockProducer<String, byte[]> throughout = producer();
        QueryLoad.SeriesWindows unstopped = QueryLoad.SeriesWindows.of(3, 100, throughout, QueryLoad.DEFAULT_ROLLUP_SECONDS);
        int sentBeforeResume = 0;
        for (long w = START_MILLIS; w < endMillis; w += 10_000L) {
            if (w == resumeMillis) {
                sentBeforeResume = throughout.history().size();
            }
            unstopped.window(w, false);
        }
        MockProducer<String, byte[]> live = producer();
        QueryLoad.SeriesWindows resumed = QueryLoad.SeriesWindows.resumed(3, 100, live,
                QueryLoad.DEFAULT_ROLLUP_SECONDS, START_MILLIS, resumeMillis);
        assertThat(live.history()).isEmpty();
        for (long w = resumeMillis; w < endMillis; w += 10_000L) {
            resumed.window(w, false);
        }

        List<ProducerRecord<String, byte[]>> expected = throughout.history().subList(sentBeforeResume,
                throughout.history().size());
        assertThat(live.history()).hasSameSizeAs(expected);
        assertThat(expected.stream().filter(r -> r.topic().endsWith(".1h")).count()).isGreaterThanOrEqualTo(2);
        assertThat(expected.stream().filter(r -> r.topic().endsWith(".10m")).count()).isGreaterThanOrEqualTo(12);
        for (int i = 0; i < expected.size(); i++) {
            ProducerRecord<String, byte[]> want = expected.get(i);
            ProducerRecord<String, byte[]> got = live.history().get(i);
            assertThat(got.topic()).as("record %d", i).isEqualTo(want.topic());
            assertThat(got.partition()).as("record %d", i).isEqualTo(want.partition());
            assertThat(got.key()).as("record %d", i).isEqualTo(want.key());
            assertThat(Arrays.equals(got.value(), want.value())).as("record %d (%s) has the same bytes", i, want.key())
                    .isTrue();
        }
    }

    private static MockProducer<String, byte[]> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    }
}
