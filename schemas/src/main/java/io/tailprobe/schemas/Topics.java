package io.tailprobe.schemas;

import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;

/** Topic names and serdes, shared by every module and test. */
public final class Topics {
    /** Raw samples, keyed by {@link SeriesKey}; kept for their retention so any window can be recomputed. */
    public static final String SAMPLES = "latency.samples";
    /**
     * The stem of the closed windows' topics, one per resolution ({@link #histograms(int)}), so that
     * each resolution has its own retention.
     */
    public static final String HISTOGRAMS = "latency.histograms";
    /** Records the aggregator could not use, with the reason in a header. */
    public static final String DEAD_LETTERS = "latency.samples.dead-letter";

    private static final Pattern HISTOGRAMS_NAME = Pattern.compile(Pattern.quote(HISTOGRAMS) + "\\.([1-9][0-9]{0,8})([smhd])");
    private static final int[] UNIT_SECONDS = {86_400, 3_600, 60, 1};
    private static final String UNITS = "dhms";

    private static final AvroSerde<LatencySample> SAMPLE_SERDE = new AvroSerde<>(LatencySample.class);
    private static final AvroSerde<WindowedHistogram> HISTOGRAM_SERDE = new AvroSerde<>(WindowedHistogram.class);

    private Topics() {}

    /**
     * The topic of the closed windows of one resolution, keyed by {@link HistogramKey}; compacted, and
     * deleted after the resolution's retention. The resolution is written in the largest whole unit of
     * d, h, m and s: 10 → {@code latency.histograms.10s}, 60 → {@code latency.histograms.1m}, 90 →
     * {@code latency.histograms.90s}, 3600 → {@code latency.histograms.1h}, 86400 →
     * {@code latency.histograms.1d}.
     */
    public static String histograms(int resolutionSeconds) {
        return histograms(HISTOGRAMS, resolutionSeconds);
    }

    /**
     * As {@link #histograms(int)} under another stem, for an aggregator configured with
     * {@code topics.histograms} (a what-if run beside the real one): {@code whatif.histograms}, 60 →
     * {@code whatif.histograms.1m}.
     */
    public static String histograms(String prefix, int resolutionSeconds) {
        if (resolutionSeconds <= 0) {
            throw new IllegalArgumentException("resolutionSeconds must be > 0, got " + resolutionSeconds);
        }
        int unit = 0;
        while (resolutionSeconds % UNIT_SECONDS[unit] != 0) {
            unit++;
        }
        return prefix + "." + resolutionSeconds / UNIT_SECONDS[unit] + UNITS.charAt(unit);
    }

    /**
     * The resolution of a topic named by {@link #histograms(int)}, or empty for any other name,
     * including a resolution not written in its largest unit ({@code latency.histograms.60s}).
     */
    public static OptionalInt histogramsResolutionSeconds(String topic) {
        Matcher m = HISTOGRAMS_NAME.matcher(topic);
        if (!m.matches()) {
            return OptionalInt.empty();
        }
        long seconds = Long.parseLong(m.group(1)) * UNIT_SECONDS[UNITS.indexOf(m.group(2))];
        if (seconds > Integer.MAX_VALUE || !histograms((int) seconds).equals(topic)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) seconds);
    }

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
        return seriesPartition(series.encode(), partitions);
    }

    /** {@link #seriesPartition(SeriesKey, int)} of a series by its {@link SeriesKey#encode() key}. */
    public static int seriesPartition(String seriesKey, int partitions) {
        return Utils.toPositive(Utils.murmur2(seriesKey.getBytes(StandardCharsets.UTF_8))) % partitions;
    }
}
