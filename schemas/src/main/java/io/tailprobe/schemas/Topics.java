package io.tailprobe.schemas;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Topic names and serdes, shared by every module and test. */
public final class Topics {
    /** Raw samples, keyed by {@link SeriesKey}; kept for their retention so any window can be recomputed. */
    public static final String SAMPLES = "latency.samples";
    /** Closed windows, keyed by {@link HistogramKey}; log-compacted. */
    public static final String HISTOGRAMS = "latency.histograms";
    /** Records the aggregator could not use, with the reason in a header. */
    public static final String DEAD_LETTERS = "latency.samples.dead-letter";

    private static final AvroSerde<LatencySample> SAMPLE_SERDE = new AvroSerde<>(LatencySample.class);
    private static final AvroSerde<WindowedHistogram> HISTOGRAM_SERDE = new AvroSerde<>(WindowedHistogram.class);

    private Topics() {}

    public static AvroSerde<LatencySample> sampleSerde() {
        return SAMPLE_SERDE;
    }

    public static AvroSerde<WindowedHistogram> histogramSerde() {
        return HISTOGRAM_SERDE;
    }

    public static Serde<String> keySerde() {
        return Serdes.String();
    }
}
