package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeriesSamplesTest {
    private static final SeriesKey SERIES = new SeriesKey("db", "http", "h2");
    private static final long START_MILLIS = 1_795_000_000_000L;
    private static final Outcome[] OUTCOMES = Outcome.values();

    /**
     * The aggregator makes its base and first rollup windows from {@link SeriesSamples}; {@code tailprobe replay}
     * and the rollups beyond are {@link OpenWindow}s. Fed the same samples, each host's window and the
     * fleet-wide one must be the same record, to the histograms' bytes: counts by outcome (timeouts have no
     * latency), extremes, the phases only some samples have, the labels all samples share (a host whose
     * labels change keeps the common ones; the fleet keeps those every host has), latencies of 0 and of
     * hours. Six base windows are also appended into a minute, which must equal the six host windows
     * added up, as the rollups made of windows are.
     */
    @Test
    void windows_made_of_a_series_samples_are_the_records_open_windows_make_of_the_same_samples() {
        SplittableRandom random = new SplittableRandom(11);
        List<String> hostNames = new ArrayList<>();
        SeriesSamples.Scratch scratch = new SeriesSamples.Scratch();
        for (int round = 0; round < 30; round++) {
            int hosts = random.nextInt(1, 40);
            hostNames.clear();
            List<Map<String, String>> hostLabels = new ArrayList<>();
            for (int host = 0; host < hosts; host++) {
                hostNames.add("host-" + round + "-" + host);
                hostLabels.add(Map.of("region", "eu", "az", "eu-" + host % 3));
            }
            SeriesSamples minute = new SeriesSamples(SERIES, 60, START_MILLIS, 0);
            Map<HistogramKey, OpenWindow> expectedMinute = new LinkedHashMap<>();
            for (int tenSeconds = 0; tenSeconds < 6; tenSeconds++) {
                long start = START_MILLIS + tenSeconds * 10_000L;
                SeriesSamples base = new SeriesSamples(SERIES, 10, start, random.nextInt(0, 50));
                Map<HistogramKey, OpenWindow> expected = new LinkedHashMap<>();
                int samples = random.nextInt(0, 400);
                SampleFields sample = new SampleFields();
                for (int i = 0; i < samples; i++) {
                    int host = random.nextInt(hosts);
                    sample.host = hostNames.get(host);
                    fill(sample, random, hostLabels.get(host));
                    base.add(sample, i);
                    expected.computeIfAbsent(new HistogramKey(SERIES, hostNames.get(host), 10, start), OpenWindow::empty)
                            .add(sample);
                    expected.computeIfAbsent(new HistogramKey(SERIES, HistogramKey.FLEET, 10, start), OpenWindow::empty)
                            .add(sample);
                }
                assertThat(base.samples()).isEqualTo(samples);
                assertThat(records(base, scratch)).as("round %d, window %d", round, tenSeconds)
                        .containsExactlyInAnyOrderEntriesOf(records(expected));
                expected.forEach((key, window) -> expectedMinute.computeIfAbsent(
                        new HistogramKey(SERIES, key.host(), 60, START_MILLIS), OpenWindow::empty).merge(window));
                minute.addAll(base);
            }
            assertThat(records(minute, scratch)).as("round %d, the minute", round)
                    .containsExactlyInAnyOrderEntriesOf(records(expectedMinute));
        }
    }

    private static void fill(SampleFields sample, SplittableRandom random, Map<String, String> labels) {
        sample.outcome = random.nextInt(8) == 0 ? OUTCOMES[random.nextInt(OUTCOMES.length)] : Outcome.OK;
        sample.serviceTimeNanos = switch (random.nextInt(20)) {
            case 0 -> 0;
            case 1 -> random.nextLong(1, 7_200_000_000_000L); // up to two hours: beyond the histograms' first range
            default -> (long) (Math.exp(random.nextGaussian()) * 2_000_000);
        };
        sample.responseTimeNanos = sample.serviceTimeNanos + random.nextLong(0, 1_000_000L);
        sample.phasesPresent = random.nextBoolean() ? 0 : random.nextInt(1 << Phases.NAMES.size());
        for (int phase = 0; phase < Phases.NAMES.size(); phase++) {
            sample.phaseNanos[phase] = random.nextLong(0, 5_000_000L);
        }
        if (random.nextInt(50) == 0) { // a host relabelled mid-window: only what both label sets share stays
            Map<String, String> changed = new HashMap<>(labels);
            changed.put("az", "moved");
            labels = changed;
        }
        sample.labels = labels;
    }

    private static Map<HistogramKey, WindowedHistogram> records(SeriesSamples samples, SeriesSamples.Scratch scratch) {
        Map<HistogramKey, WindowedHistogram> records = new HashMap<>();
        samples.makeWindows(scratch, window -> {
            WindowedHistogram previous = records.put(window.key(), window.toRecord());
            assertThat(previous).as("one window of %s", window.key()).isNull();
        });
        return records;
    }

    private static Map<HistogramKey, WindowedHistogram> records(Map<HistogramKey, OpenWindow> windows) {
        Map<HistogramKey, WindowedHistogram> records = new HashMap<>();
        windows.forEach((key, window) -> records.put(key, window.toRecord()));
        return records;
    }
}
