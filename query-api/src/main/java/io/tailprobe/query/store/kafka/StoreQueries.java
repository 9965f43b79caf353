package io.tailprobe.query.store.kafka;

import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Answers {@code series()} from the series index and {@code windows(…)} from the store of the asked
 * resolution, however the stores were obtained (Interactive Queries in production,
 * {@code TopologyTestDriver} in tests). A resolution without a store has no windows.
 *
 * <p>Window keys sort by series, host, resolution and then a 16-digit start, so the windows of one
 * series between two times are one range scan: {@code db|tcp|tcp|*|10|0001763900000000} ..
 * {@code db|tcp|tcp|*|10|0001763900059999}, in time order. The scan reads the one partition that holds the series
 * ({@link Topics#seriesPartition}), so an instance that does not hold it fails instead of answering
 * with no windows. The index of one target is a prefix scan ({@code db|}).
 */
final class StoreQueries {
    private final Map<Integer, IntFunction<ReadOnlyKeyValueStore<String, WindowedHistogram>>> histogramsByResolutionSeconds;
    private final Supplier<ReadOnlyKeyValueStore<String, SeriesSpan>> seriesIndex;
    private final int partitions;

    /**
     * @param histogramsByResolutionSeconds per resolution, the store of one partition
     * @param seriesIndex the index over every partition this instance holds
     * @param partitions how many partitions the histogram topics have
     */
    StoreQueries(Map<Integer, IntFunction<ReadOnlyKeyValueStore<String, WindowedHistogram>>> histogramsByResolutionSeconds,
                 Supplier<ReadOnlyKeyValueStore<String, SeriesSpan>> seriesIndex, int partitions) {
        this.histogramsByResolutionSeconds = Map.copyOf(histogramsByResolutionSeconds);
        this.seriesIndex = seriesIndex;
        this.partitions = partitions;
    }

    List<SeriesInfo> series() {
        try (KeyValueIterator<String, SeriesSpan> it = seriesIndex.get().all()) {
            return seriesInfos(it);
        }
    }

    /** The index entries of one target: a prefix scan of {@code target|}. */
    List<SeriesInfo> series(String target) {
        try (KeyValueIterator<String, SeriesSpan> it = seriesIndex.get().prefixScan(target + SeriesKey.SEPARATOR,
                new StringSerializer())) {
            return seriesInfos(it);
        }
    }

    private static List<SeriesInfo> seriesInfos(KeyValueIterator<String, SeriesSpan> it) {
        List<SeriesInfo> all = new ArrayList<>();
        while (it.hasNext()) {
            KeyValue<String, SeriesSpan> entry = it.next();
            String[] parts = entry.key.split("\\|", -1);
            if (parts.length != 6 || !parts[5].isEmpty()) {
                continue;
            }
            all.add(new SeriesInfo(parts[0], parts[1], parts[2], parts[3], Integer.parseInt(parts[4]),
                    entry.value.firstWindowStartMillis(), entry.value.lastWindowStartMillis(), entry.value.labels()));
        }
        all.sort(SeriesInfo.NATURAL_ORDER);
        return all;
    }

    List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                    long toMillisExclusive) {
        IntFunction<ReadOnlyKeyValueStore<String, WindowedHistogram>> histograms =
                histogramsByResolutionSeconds.get(resolutionSeconds);
        if (histograms == null || toMillisExclusive <= fromMillis || toMillisExclusive <= 0) {
            return List.of();
        }
        // range() is inclusive at both ends
        String from = new HistogramKey(series, host, resolutionSeconds, Math.max(0, fromMillis)).encode();
        String to = new HistogramKey(series, host, resolutionSeconds, toMillisExclusive - 1).encode();
        List<WindowedHistogram> found = new ArrayList<>();
        try (KeyValueIterator<String, WindowedHistogram> it =
                     histograms.apply(Topics.seriesPartition(series, partitions)).range(from, to)) {
            while (it.hasNext()) {
                WindowedHistogram window = it.next().value;
                if (window != null) {
                    found.add(window);
                }
            }
        }
        return found;
    }
}
