package io.tailprobe.aggregator;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * The aggregator's topology, built by one pure factory:
 * <pre>
 * latency.samples ─► window-samples ─► latency.histograms.10s, .1m, .1h   (closed windows, per host and
 *                          │                                           fleet-wide; one topic per resolution)
 *                          └─────────► latency.samples.dead-letter (reason in a header)
 * </pre>
 * Samples arrive keyed by series, so all hosts of a series meet in one task and the fleet-wide
 * merge needs no repartition; a window goes to its resolution's topic (each has its own retention),
 * in its series' partition. The one state store is a small checkpoint per task
 * ({@link WindowProcessor}): open windows are rebuilt from these topics, not from a changelog of
 * their own.
 */
public final class LatencyTopology {
    static final String SOURCE = "samples-source";
    static final String WINDOW_PROCESSOR = "window-samples";
    static final String DEAD_LETTER_SINK = "dead-letter-sink";

    private LatencyTopology() {}

    public static Topology build(AggregatorConfig config) {
        return build(config, new AggregatorMetrics());
    }

    /** A topology that never restarts with state (TopologyTestDriver, topology descriptions). */
    public static Topology build(AggregatorConfig config, AggregatorMetrics metrics) {
        return build(config, metrics, InputLag.CAUGHT_UP, TaskHistory.NONE);
    }

    /**
     * @param inputLag how far each input partition is behind; windows idle-close only when caught up
     * @param history where a restarted task reads the samples and windows of its open windows again
     */
    static Topology build(AggregatorConfig config, AggregatorMetrics metrics, InputLag inputLag, TaskHistory history) {
        Topology topology = new Topology();
        CommitHookedStores commitHooks = new CommitHookedStores();
        topology.addSource(SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), config.topics().samples());
        topology.addProcessor(WINDOW_PROCESSOR,
                () -> new WindowProcessor(config, metrics, commitHooks, inputLag, history), SOURCE);
        topology.addStateStore(WindowProcessor.checkpointStore(commitHooks), WINDOW_PROCESSOR);
        for (int seconds : config.resolutionsSeconds()) {
            topology.addSink(histogramsSink(seconds), config.topics().histogramsTopic(seconds), new StringSerializer(),
                    new ByteArraySerializer(), seriesPartitioner(), WINDOW_PROCESSOR);
        }
        topology.addSink(DEAD_LETTER_SINK, config.topics().deadLetters(), new StringSerializer(), new ByteArraySerializer(),
                WINDOW_PROCESSOR);
        return topology;
    }

    /** The sink of the windows of one resolution: a 1 min window goes to latency.histograms.1m. */
    static String histogramsSink(int resolutionSeconds) {
        return "histograms-" + resolutionSeconds + "s-sink";
    }

    /**
     * Every window of a series goes to the series' partition, the same partition as its samples. The
     * series is the key's start, up to its third separator ({@link HistogramKey#encode()}), so nothing
     * is parsed per record.
     */
    static StreamPartitioner<String, byte[]> seriesPartitioner() {
        return (topic, key, value, partitions) -> Optional.of(Set.of(Topics.seriesPartition(seriesOf(key), partitions)));
    }

    /** The series part of a histogram key: {@code db|tcp|tcp} of {@code db|tcp|tcp|*|10|0001763900000000}. */
    static String seriesOf(String histogramKey) {
        int end = -1;
        for (int separators = 0; separators < 3; separators++) {
            end = histogramKey.indexOf(SeriesKey.SEPARATOR, end + 1);
            if (end < 0) {
                throw new IllegalArgumentException("not a histogram key: \"" + histogramKey + "\"");
            }
        }
        return histogramKey.substring(0, end);
    }
}
