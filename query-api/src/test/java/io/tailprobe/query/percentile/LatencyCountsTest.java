package io.tailprobe.query.percentile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.query.TestWindows;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** One dense array and one pass give the very figures {@link MergedLatency} gives for the same windows. */
class LatencyCountsTest {
    private static final SeriesKey SERIES = new SeriesKey("db", "tcp", "tcp");
    private static final List<Double> QUANTILES = List.of(0.999, 0.0, 0.5, 0.001, 0.25, 1.0, 0.9, 0.99, 0.9999, 1e-9);

    /** Windows of 0..300 samples from 0 ns to 30 s, some with a connect phase, some empty. */
    static List<WindowedHistogram> randomWindows(Random random, int count) {
        List<WindowedHistogram> windows = new ArrayList<>();
        for (int w = 0; w < count; w++) {
            long[] responseNanos = new long[random.nextInt(4) == 0 ? 0 : random.nextInt(300)];
            double spread = 1 + random.nextDouble() * 16;
            for (int i = 0; i < responseNanos.length; i++) {
                responseNanos[i] = random.nextInt(50) == 0 ? random.nextInt(600) : (long) Math.exp(7 + random.nextDouble() * spread);
            }
            WindowedHistogram window = TestWindows.window(SERIES, "*", w * TestWindows.RESOLUTION_MILLIS, responseNanos,
                    random.nextInt(3));
            if (random.nextBoolean()) {
                Histogram connect = LatencyHistograms.newHistogram();
                for (long nanos : responseNanos) {
                    LatencyHistograms.record(connect, nanos / 3);
                }
                window = WindowedHistogram.newBuilder(window)
                        .setPhaseHistograms(Map.of("connect", ByteBuffer.wrap(LatencyHistograms.encode(connect)))).build();
            }
            windows.add(window);
        }
        return windows;
    }

    @Test
    void the_summary_of_a_dense_array_is_merged_latencys_to_the_bit() {
        Random random = new Random(5);
        for (int round = 0; round < 200; round++) {
            List<WindowedHistogram> windows = randomWindows(random, 1 + random.nextInt(30));
            for (Latency latency : List.of(Latency.RESPONSE, Latency.SERVICE, Latency.parse("connect"))) {
                LatencyCounts counts = new LatencyCounts();
                windows.forEach(window -> counts.add(window, latency));
                assertThat(counts.summary(QUANTILES)).as("round %d, %s", round, latency)
                        .isEqualTo(new MergedLatency(latency).add(windows).summary(QUANTILES));
            }
        }
    }

    @Test
    void adding_compacted_sums_of_parts_gives_the_sum_of_the_whole() {
        Random random = new Random(8);
        for (int round = 0; round < 50; round++) {
            List<WindowedHistogram> windows = randomWindows(random, 40);
            LatencyCounts merged = new LatencyCounts();
            int cut = random.nextInt(windows.size());
            LatencyCounts head = new LatencyCounts();
            windows.subList(0, cut).forEach(window -> head.add(window, Latency.RESPONSE));
            merged.expect(head).add(head.compact());
            windows.subList(cut, windows.size()).forEach(window -> merged.add(window, Latency.RESPONSE));
            assertThat(merged.summary(QUANTILES)).as("round %d", round)
                    .isEqualTo(new MergedLatency(Latency.RESPONSE).add(windows).summary(QUANTILES));
        }
    }

    @Test
    void every_compact_form_adds_up_and_summarizes_as_the_open_sum() {
        Random random = new Random(9);
        Set<String> forms = new TreeSet<>();
        for (int round = 0; round < 120; round++) {
            List<WindowedHistogram> windows = randomWindows(random, 1 + random.nextInt(round % 2 == 0 ? 3 : 60));
            if (round % 10 == 0) { // one bucket beyond an int
                Histogram huge = LatencyHistograms.newHistogram();
                huge.recordValueWithCount(5_000_000L, 3_000_000_000L);
                windows.add(WindowedHistogram.newBuilder(windows.getFirst())
                        .setResponseTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(huge))).build());
            }
            LatencyCounts open = new LatencyCounts();
            windows.forEach(window -> open.add(window, Latency.RESPONSE));
            LatencyCounts compact = open.compact();
            if (open.count() == 0) {
                assertThat(new LatencyCounts().add(compact).summary(QUANTILES)).isEqualTo(LatencySummary.EMPTY);
                continue;
            }
            forms.add(compact.form());
            assertThatThrownBy(() -> compact.add(open)).as("a kept copy is shared: never added to")
                    .isInstanceOf(IllegalStateException.class);
            assertThat(compact.summary(QUANTILES)).as("round %d, %s", round, compact.form())
                    .isEqualTo(open.summary(QUANTILES));
            assertThat(new LatencyCounts().add(compact).add(compact).summary(QUANTILES)).as("round %d", round)
                    .isEqualTo(new LatencyCounts().add(open).add(open).summary(QUANTILES));
            assertThat(compact.bytes()).as("round %d, %s", round, compact.form())
                    .isLessThanOrEqualTo(96L + 8L * (open.highestIndex() - open.lowestIndex() + 1));
        }
        assertThat(forms).containsExactly("dense ints", "dense longs", "sparse ints");
    }

    @Test
    void one_window_read_straight_into_its_compact_form_is_the_compact_copy_of_its_open_sum() {
        Random random = new Random(12);
        List<WindowedHistogram> windows = new ArrayList<>(randomWindows(random, 300));
        Histogram narrow = LatencyHistograms.newHistogram(); // 2,000 samples over ~1,000 buckets: dense
        Histogram huge = LatencyHistograms.newHistogram(); // a bucket beyond an int: dense longs
        for (int i = 0; i < 2_000; i++) {
            LatencyHistograms.record(narrow, 1_000_000L + random.nextInt(1_000_000));
        }
        huge.recordValueWithCount(5_000_000L, 3_000_000_000L);
        huge.recordValue(9_000_000L);
        for (Histogram histogram : List.of(narrow, huge)) {
            windows.add(WindowedHistogram.newBuilder(windows.getFirst())
                    .setResponseTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(histogram))).build());
        }
        Set<String> forms = new TreeSet<>();
        for (int w = 0; w < windows.size(); w++) {
            for (Latency latency : List.of(Latency.RESPONSE, Latency.SERVICE, Latency.parse("connect"))) {
                WindowedHistogram window = windows.get(w);
                LatencyCounts expected = new LatencyCounts().add(window, latency).compact();
                LatencyCounts direct = LatencyCounts.compactOf(window, latency);
                String as = "window " + w + ", " + latency;
                assertThat(direct.form()).as(as).isEqualTo(expected.form());
                assertThat(direct.count()).as(as).isEqualTo(expected.count());
                assertThat(direct.bytes()).as(as).isEqualTo(expected.bytes());
                assertThat(direct.lowestIndex()).as(as).isEqualTo(expected.lowestIndex());
                assertThat(direct.highestIndex()).as(as).isEqualTo(expected.highestIndex());
                assertThat(direct.summary(QUANTILES)).as(as).isEqualTo(expected.summary(QUANTILES))
                        .isEqualTo(new MergedLatency(latency).add(List.of(window)).summary(QUANTILES));
                assertThat(new LatencyCounts().add(direct).add(windows.get((w + 1) % windows.size()), latency)
                        .summary(QUANTILES)).as(as).isEqualTo(new LatencyCounts().add(window, latency)
                        .add(windows.get((w + 1) % windows.size()), latency).summary(QUANTILES));
                assertThatThrownBy(() -> direct.add(window, latency)).isInstanceOf(IllegalStateException.class);
                forms.add(direct.count() == 0 ? "empty" : direct.form());
            }
        }
        assertThat(forms).containsExactly("dense ints", "dense longs", "empty", "sparse ints");
    }

    @Test
    void windows_expected_by_their_exact_extremes_are_added_into_one_array_of_just_their_buckets() {
        Random random = new Random(13);
        for (int round = 0; round < 50; round++) {
            List<WindowedHistogram> windows = randomWindows(random, 2 + random.nextInt(30));
            LatencyCounts counts = new LatencyCounts();
            windows.forEach(window -> counts.expect(window, Latency.RESPONSE));
            windows.forEach(window -> counts.add(window, Latency.RESPONSE));
            if (counts.count() > 0) {
                // no slack: the array was made once, for the expected buckets, and never grown
                assertThat(counts.bytes()).as("round %d", round)
                        .isEqualTo(96L + 8L * (counts.highestIndex() - counts.lowestIndex() + 1));
            }
            assertThat(counts.summary(QUANTILES)).as("round %d", round)
                    .isEqualTo(new MergedLatency(Latency.RESPONSE).add(windows).summary(QUANTILES));
        }
    }

    @Test
    void an_expectation_is_only_a_hint_too_narrow_too_wide_or_after_the_first_add() {
        Random random = new Random(21);
        for (int round = 0; round < 50; round++) {
            List<WindowedHistogram> windows = randomWindows(random, 1 + random.nextInt(30));
            int low = random.nextInt(30_000);
            LatencyCounts counts = new LatencyCounts().expect(low, low + random.nextInt(3_000));
            for (WindowedHistogram window : windows) {
                counts.add(window, Latency.RESPONSE);
                int from = random.nextInt(40_000);
                counts.expect(from, from + random.nextInt(100));
            }
            assertThat(counts.summary(QUANTILES)).as("round %d", round)
                    .isEqualTo(new MergedLatency(Latency.RESPONSE).add(windows).summary(QUANTILES));
        }
    }

    @Test
    void no_sample_is_the_empty_summary() {
        assertThat(new LatencyCounts().summary(QUANTILES)).isEqualTo(LatencySummary.EMPTY);
        assertThat(new LatencyCounts().add(new LatencyCounts().compact()).summary(QUANTILES)).isEqualTo(LatencySummary.EMPTY);
    }
}
