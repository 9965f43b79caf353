package io.tailprobe.aggregator;

import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.streams.KafkaStreams;

/** How far a partition of the samples topic is behind its log end, as its consumer last saw it. */
@FunctionalInterface
public interface InputLag {
    /** Always caught up: for a topology without consumers, such as under TopologyTestDriver. */
    InputLag CAUGHT_UP = partition -> 0;

    /** Records of {@code partition} not yet fetched, 0 when caught up; -1 when not known (yet). */
    long records(int partition);

    /**
     * From the {@code records-lag} metric of the consumer that owns the partition: -1 before its
     * first fetch, so a restarted aggregator never mistakes the moments before its first records
     * for the end of the stream.
     *
     * @param streams the running app, null until it exists
     * @param samplesTopic the topic the app reads samples from ({@code topics.samples})
     */
    static InputLag of(Supplier<KafkaStreams> streams, String samplesTopic) {
        return partition -> {
            KafkaStreams app = streams.get();
            if (app == null) {
                return -1;
            }
            double lag = -1;
            String partitionTag = Integer.toString(partition);
            String topicTag = samplesTopic.replace('.', '_'); // as the consumer's fetch metrics spell it
            for (Metric metric : app.metrics().values()) {
                var name = metric.metricName();
                if (name.name().equals("records-lag") && topicTag.equals(name.tags().get("topic"))
                        && partitionTag.equals(name.tags().get("partition"))
                        && metric.metricValue() instanceof Double value && !value.isNaN()) {
                    lag = Math.max(lag, value);
                }
            }
            return (long) lag;
        };
    }
}
