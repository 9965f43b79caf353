package io.tailprobe.schemas;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;

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

    /**
     * The partition of a series in a topic of {@code partitions} partitions: the same as Kafka's
     * default partitioner gives a record keyed by {@link SeriesKey#encode()}. Histograms are written
     * to the partition of their series too, so one instance owns a series' samples and windows.
     */
    public static int seriesPartition(SeriesKey series, int partitions) {
        byte[] key = series.encode().getBytes(StandardCharsets.UTF_8);
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }
}
