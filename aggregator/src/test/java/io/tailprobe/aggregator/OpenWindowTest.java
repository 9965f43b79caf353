package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class OpenWindowTest {
    private static final SeriesKey SERIES = new SeriesKey("api", "http", "h2");

    /**
     * Samples wait in a small array until the window is read; this adds enough to fill it many times over
     * (up to 1,000 in one window), reads some windows half-way by merging them, and checks every histogram
     * against HdrHistogram's own, recorded value by value.
     */
    @Test
    void every_latency_added_is_in_the_histograms_whenever_they_are_read() {
        SplittableRandom random = new SplittableRandom(3);
        for (int round = 0; round < 40; round++) {
            int samples = random.nextInt(1, 1_000);
            OpenWindow window = OpenWindow.empty(new HistogramKey(SERIES, "host-a", 10, 1_795_000_000_000L));
            OpenWindow rollup = OpenWindow.empty(new HistogramKey(SERIES, "host-a", 60, 1_795_000_000_000L));
            Histogram service = LatencyHistograms.newHistogram();
            Histogram response = LatencyHistograms.newHistogram();
            Histogram[] phases = new Histogram[Phases.NAMES.size()];
            SampleFields sample = new SampleFields();
            sample.labels = Map.of("region", "eu");
            int ok = 0;
            for (int i = 0; i < samples; i++) {
                sample.outcome = random.nextInt(10) == 0 ? Outcome.TIMEOUT : Outcome.OK;
                sample.serviceTimeNanos = random.nextLong(0, 50_000_000L);
                sample.responseTimeNanos = sample.serviceTimeNanos + random.nextLong(0, 1_000_000L);
                sample.phasesPresent = random.nextInt(1 << phases.length);
                for (int phase = 0; phase < phases.length; phase++) {
                    sample.phaseNanos[phase] = random.nextLong(0, 5_000_000L);
                }
                window.add(sample);
                if (sample.outcome == Outcome.OK) {
                    ok++;
                    LatencyHistograms.record(service, sample.serviceTimeNanos);
                    LatencyHistograms.record(response, sample.responseTimeNanos);
                    for (int phase = 0; phase < phases.length; phase++) {
                        if ((sample.phasesPresent & 1 << phase) != 0) {
                            if (phases[phase] == null) {
                                phases[phase] = LatencyHistograms.newHistogram();
                            }
                            LatencyHistograms.record(phases[phase], sample.phaseNanos[phase]);
                        }
                    }
                }
                if (i == samples / 2) {
                    rollup.merge(window); // a read half-way: what was added so far is in the histograms
                    assertThat(LatencyHistograms.decode(rollup.toRecord().getServiceTimeHistogram())).isEqualTo(service);
                }
            }

            WindowedHistogram record = window.toRecord();
            assertThat(record.getSampleCount()).isEqualTo(samples);
            assertThat(LatencyHistograms.decode(record.getServiceTimeHistogram())).isEqualTo(service);
            assertThat(LatencyHistograms.decode(record.getResponseTimeHistogram())).isEqualTo(response);
            assertThat(service.getTotalCount()).isEqualTo(ok);
            for (int phase = 0; phase < phases.length; phase++) {
                ByteBuffer encoded = record.getPhaseHistograms().get(Phases.NAMES.get(phase));
                if (phases[phase] == null) {
                    assertThat(encoded).isNull();
                } else {
                    assertThat(LatencyHistograms.decode(encoded)).as(Phases.NAMES.get(phase)).isEqualTo(phases[phase]);
                }
            }
            assertThat(record.getLabels()).isEqualTo(Map.of("region", "eu"));
        }
    }
}
