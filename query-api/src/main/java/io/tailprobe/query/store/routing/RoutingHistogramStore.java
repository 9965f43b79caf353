package io.tailprobe.query.store.routing;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.apache.kafka.streams.state.HostInfo;

/**
 * The histogram store of a query API run as several instances: each instance holds the partitions
 * Kafka Streams assigned it ({@link Assignment}), and this store reads every other partition from the
 * instance that holds it ({@link PeerClient}). Above it every endpoint works as on one instance: the
 * windows of a series come from the instance that holds its partition, the series of a listing or of a
 * target from every instance, and all the arithmetic (merging, quantiles, counts at bounds) happens
 * where the request arrived, over the very bytes the owner holds. Two instances therefore give the same
 * answer to every query, byte for byte.
 *
 * <p>Series lists are gathered only when the instances together hold every partition, and the
 * assignment must be the same before and after the gathering; otherwise (a rebalance) the store
 * throws {@link StoreUnavailableException} rather than answer with part of the series.
 *
 * <p>Example: on {@code localhost:8080} holding partitions 0, 2 and 4, the windows of {@code db|tcp|tcp}
 * (partition 3) are read from {@code localhost:8081}, and {@link #series()} is this instance's index
 * entries plus those {@code localhost:8081} sends.
 */
public final class RoutingHistogramStore implements HistogramStore {
    private final HistogramStore local;
    private final Assignment assignment;
    private final HostInfo self;
    private final PeerClient peers;

    /**
     * @param local the partitions this instance holds
     * @param self this instance as the assignment names it ({@code streams.applicationServer})
     */
    public RoutingHistogramStore(HistogramStore local, Assignment assignment, HostInfo self, PeerClient peers) {
        this.local = local;
        this.assignment = assignment;
        this.self = self;
        this.peers = peers;
    }

    @Override
    public List<SeriesInfo> series() {
        return gather(null);
    }

    @Override
    public List<SeriesInfo> series(String target) {
        return gather(target);
    }

    private List<SeriesInfo> gather(String target) {
        Map<HostInfo, Set<Integer>> before = assignment.activePartitions();
        Set<Integer> unassigned = new TreeSet<>(IntStream.range(0, assignment.partitions()).boxed().toList());
        before.values().forEach(unassigned::removeAll);
        if (!unassigned.isEmpty()) {
            throw new StoreUnavailableException("partitions " + unassigned + " of the histogram topics are held by no"
                    + " instance now (rebalancing)");
        }
        Map<HostInfo, CompletableFuture<List<SeriesInfo>>> remote = new LinkedHashMap<>();
        before.forEach((instance, partitions) -> {
            if (!instance.equals(self) && !partitions.isEmpty()) {
                remote.put(instance, peers.series(instance, target));
            }
        });
        List<SeriesInfo> all = new ArrayList<>(target == null ? local.series() : local.series(target));
        remote.values().forEach(answer -> all.addAll(PeerClient.join(answer)));
        if (!assignment.activePartitions().equals(before)) {
            throw new StoreUnavailableException("partitions of the histogram topics moved between instances while"
                    + " the series were gathered (rebalancing)");
        }
        all.sort(SeriesInfo.NATURAL_ORDER);
        return all;
    }

    @Override
    public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                           long toMillisExclusive) {
        HostInfo owner = assignment.activeHost(series).orElseThrow(() -> new StoreUnavailableException(
                "the partition of " + series + " is held by no instance now (rebalancing)"));
        return owner.equals(self) ? local.windows(series, host, resolutionSeconds, fromMillis, toMillisExclusive)
                : peers.windows(owner, series, host, resolutionSeconds, fromMillis, toMillisExclusive);
    }

    /**
     * The local store's version when this instance holds the series' partition, else
     * {@link #UNVERSIONED}: windows read from another instance are never cached. A partition moving
     * away after this answer changes the local versions (a rebalance changes them all).
     */
    @Override
    public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                        long toMillisExclusive) {
        return assignment.activeHost(series).filter(self::equals).isPresent()
                ? local.version(series, host, resolutionSeconds, fromMillis, toMillisExclusive) : UNVERSIONED;
    }

    /** Unversioned: other instances add series this one does not see. */
    @Override
    public long seriesVersion() {
        return UNVERSIONED;
    }

    @Override
    public boolean isRunning() {
        return local.isRunning();
    }

    @Override
    public boolean isCaughtUp() {
        return local.isCaughtUp();
    }

    @Override
    public HistogramStore local() {
        return local;
    }

    @Override
    public void close() {
        try {
            peers.close();
        } finally {
            local.close();
        }
    }
}
