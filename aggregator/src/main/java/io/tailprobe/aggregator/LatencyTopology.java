package io.tailprobe.aggregator;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.Topics;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.TopicNameExtractor;

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
    static final String HISTOGRAMS_SINK = "histograms-sink";
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
        topology.addSink(HISTOGRAMS_SINK, histogramsTopic(config.topics()), new StringSerializer(), new ByteArraySerializer(),
                seriesPartitioner(), WINDOW_PROCESSOR);
        topology.addSink(DEAD_LETTER_SINK, config.topics().deadLetters(), new StringSerializer(), new ByteArraySerializer(),
                WINDOW_PROCESSOR);
        return topology;
    }

    /** A window goes to the topic of the resolution in its key: a 1 min window to latency.histograms.1m. */
    static TopicNameExtractor<String, byte[]> histogramsTopic(AggregatorConfig.TopicsSetup topics) {
        return (key, value, recordContext) -> topics.histogramsTopic(HistogramKey.parse(key).resolutionSeconds());
    }

    /** Every window of a series goes to the series' partition, the same partition as its samples. */
    static StreamPartitioner<String, byte[]> seriesPartitioner() {
        return (topic, key, value, partitions) ->
                Optional.of(Set.of(Topics.seriesPartition(HistogramKey.parse(key).series(), partitions)));
    }
}
