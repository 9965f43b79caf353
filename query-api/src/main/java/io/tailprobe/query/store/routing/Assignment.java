package io.tailprobe.query.store.routing;

import io.tailprobe.schemas.SeriesKey;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Which instance of the query API holds which partition of the histogram topics, as Kafka Streams
 * assigned them; every instance names itself by its {@code streams.applicationServer}. A series' windows
 * and its index entries all live in its partition ({@link io.tailprobe.schemas.Topics#seriesPartition}),
 * so the instance holding that partition answers everything about the series.
 *
 * <p>Example: two instances over 6 partitions, {@code {localhost:8080=[0, 2, 4], localhost:8081=[1, 3, 5]}};
 * {@code db|tcp|tcp} in partition 3 is held by {@code localhost:8081}.
 */
public interface Assignment {
    /** How many partitions each histogram topic has. */
    int partitions();

    /** The instance whose active task holds {@code series}' partition; empty while none does (rebalancing). */
    Optional<HostInfo> activeHost(SeriesKey series);

    /** Every instance with the partitions its active tasks hold. */
    Map<HostInfo, Set<Integer>> activePartitions();
}
