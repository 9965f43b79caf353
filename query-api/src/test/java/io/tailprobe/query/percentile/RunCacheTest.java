package io.tailprobe.query.percentile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.TestWindows;
import io.tailprobe.query.store.ForwardingHistogramStore;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.query.store.StoreVersions;
import io.tailprobe.schemas.BucketCounts;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Sums of runs kept across queries give the answer merging every window gives, and a write, a delete
 * or a restore of the windows they were read from retires them.
 */
class RunCacheTest {
    private static final SeriesKey DB = new SeriesKey("db", "tcp", "tcp");
    private static final SeriesKey OTHER = new SeriesKey("db-replica", "tcp", "tcp");
    /** 12:00Z: three hours of 10 s windows from here, rolled up into 1 min windows but for the last 10 minutes. */
    private static final long T0_MILLIS = 1_795_435_200_000L;
    private static final List<Double> QUANTILES = List.of(0.0, 0.5, 0.9, 0.99, 0.999, 1.0);
    private static final Latency CONNECT = Latency.parse("connect");
    /** Ranges that cut runs (24 and 4 min of 1 min windows) and minutes at both ends, and one that is one window. */
    private static final List<long[]> RANGES = List.of(new long[] {T0_MILLIS, T0_MILLIS + 3 * 3_600_000L},
            new long[] {T0_MILLIS + 25_000, T0_MILLIS + 2 * 3_600_000L + 7 * 60_000 + 35_000},
            new long[] {T0_MILLIS + 13 * 60_000, T0_MILLIS + 71 * 60_000},
            new long[] {T0_MILLIS + 170 * 60_000, T0_MILLIS + 170 * 60_000 + 10_000});

    private final RunCache cache = new RunCache(64L << 20);

    private static InMemoryHistogramStore store(long seed) {
        InMemoryHistogramStore store = new InMemoryHistogramStore();
        Random random = new Random(seed);
        for (SeriesKey series : List.of(DB, OTHER)) {
            List<WindowedHistogram> minute = new ArrayList<>();
            for (int w = 0; w < 3 * 360; w++) {
                WindowedHistogram window = LatencyCountsTest.randomWindows(random, 1).getFirst();
                window = WindowedHistogram.newBuilder(window).setTarget(series.target())
                        .setWindowStartMillis(T0_MILLIS + w * 10_000L).setWindowEndMillis(T0_MILLIS + (w + 1) * 10_000L)
                        .build();
                store.put(window);
                minute.add(window);
                if (minute.size() == 6) {
                    if (w < 170 * 6) {
                        store.put(rollup(minute, 60));
                    }
                    minute = new ArrayList<>();
                }
            }
        }
        return store;
    }

    /** The windows added up into one window of {@code seconds}, as the aggregator rolls them up. */
    static WindowedHistogram rollup(List<WindowedHistogram> windows, int seconds) {
        BucketCounts response = new BucketCounts();
        BucketCounts service = new BucketCounts();
        BucketCounts connect = new BucketCounts();
        Map<String, Long> outcomes = new TreeMap<>();
        long samples = 0;
        Long min = null;
        Long max = null;
        for (WindowedHistogram window : windows) {
            response.addAll(BucketCounts.decode(window.getResponseTimeHistogram().duplicate()));
            service.addAll(BucketCounts.decode(window.getServiceTimeHistogram().duplicate()));
            ByteBuffer phase = window.getPhaseHistograms().get("connect");
            if (phase != null) {
                connect.addAll(BucketCounts.decode(phase.duplicate()));
            }
            window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
            samples += window.getSampleCount();
            if (window.getMinResponseTimeNanos() != null) {
                min = min == null ? window.getMinResponseTimeNanos() : Math.min(min, window.getMinResponseTimeNanos());
                max = max == null ? window.getMaxResponseTimeNanos() : Math.max(max, window.getMaxResponseTimeNanos());
            }
        }
        WindowedHistogram first = windows.getFirst();
        return WindowedHistogram.newBuilder(first).setResolutionSeconds(seconds)
                .setWindowEndMillis(first.getWindowStartMillis() + seconds * 1_000L)
                .setSampleCount(samples).setOutcomeCounts(outcomes)
                .setMinResponseTimeNanos(min).setMaxResponseTimeNanos(max)
                .setMinServiceTimeNanos(min == null ? null : TestWindows.serviceNanos(min))
                .setMaxServiceTimeNanos(max == null ? null : TestWindows.serviceNanos(max))
                .setResponseTimeHistogram(ByteBuffer.wrap(response.encode()))
                .setServiceTimeHistogram(ByteBuffer.wrap(service.encode()))
                .setPhaseHistograms(Map.of("connect", ByteBuffer.wrap(connect.encode())))
                .build();
    }

    private static PercentileQuery query(long[] range) {
        return new PercentileQuery(new SeriesRange("db", "tcp", null, null, range[0], range[1], 0), QUANTILES,
                List.of(CONNECT));
    }

    /** What {@link PercentileService#percentiles} answered before runs were kept: every covering window merged whole. */
    static PercentileResult uncached(HistogramStore store, PercentileQuery query) {
        SeriesMatch match = SeriesMatch.of(store, query.range());
        StepWindows windows = match.windows();
        List<WindowedHistogram> all = windows.all();
        Map<String, LatencySummary> phases = new LinkedHashMap<>();
        for (Latency phase : query.phases()) {
            phases.put(phase.name(), new MergedLatency(phase).add(all).summary(query.quantiles()));
        }
        SeriesRange range = query.range();
        return new PercentileResult(range.target(), range.probeType(), range.protocol(), match.protocols(), range.host(),
                windows.fromMillis(), windows.toMillis(), match.resolutionSeconds(), all.size(),
                PercentileService.sampleCount(all), PercentileService.outcomes(all),
                new MergedLatency(Latency.RESPONSE).add(all).summary(query.quantiles()),
                new MergedLatency(Latency.SERVICE).add(all).summary(query.quantiles()), phases);
    }

    private void assertEveryRangeAnswersAsUncached(PercentileService service, HistogramStore store) {
        for (long[] range : RANGES) {
            PercentileResult expected = uncached(store, query(range));
            assertThat(service.percentiles(query(range))).as("first, %d..%d", range[0], range[1]).isEqualTo(expected);
            assertThat(service.percentiles(query(range))).as("again, now kept, %d..%d", range[0], range[1])
                    .isEqualTo(expected);
            assertThat(service.percentiles(query(range))).as("from the kept sums, %d..%d", range[0], range[1])
                    .isEqualTo(expected);
        }
    }

    @Test
    void answers_from_kept_runs_are_the_answers_of_every_window_merged() {
        InMemoryHistogramStore store = store(1);
        PercentileService service = new PercentileService(store, PercentileService.DEFAULT_STEPS, cache);

        assertEveryRangeAnswersAsUncached(service, store);
        // 7 runs of 24 min (the last one holds only 10 of its minutes) and 4 min runs around them
        assertThat(cache.size()).isGreaterThan(7);
        assertThat(service.percentiles(query(RANGES.getFirst())).windows()).as("170 minutes + 60 10 s windows")
                .isEqualTo(230);
    }

    @Test
    void a_range_asked_once_keeps_nothing_and_asked_twice_keeps_its_sums() {
        InMemoryHistogramStore store = store(12);
        PercentileService service = new PercentileService(store, PercentileService.DEFAULT_STEPS, cache);

        PercentileResult first = service.percentiles(query(RANGES.get(1)));
        assertThat(cache.size()).as("a range asked once, as each request of a sliding range is").isZero();
        assertThat(service.percentiles(query(RANGES.get(1)))).isEqualTo(first);
        assertThat(cache.size()).as("its runs and the whole stretch, asked twice").isGreaterThan(2);
        long kept = cache.bytes();
        assertThat(service.percentiles(query(RANGES.get(1)))).isEqualTo(first);
        assertThat(cache.bytes()).as("nothing more kept the third time").isEqualTo(kept);
    }

    @Test
    void what_is_not_kept_is_read_with_one_scan_per_stretch_of_a_resolution() {
        InMemoryHistogramStore windows = store(14);
        AtomicInteger scans = new AtomicInteger();
        HistogramStore counted = new ForwardingHistogramStore(windows) {
            @Override
            public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                                   long toMillisExclusive) {
                scans.incrementAndGet();
                return super.windows(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
            }
        };
        PercentileService service = new PercentileService(counted, PercentileService.DEFAULT_STEPS, cache);
        // 00:25 .. 2:07:35 after T0: 10 s windows to the first minute, 126 minutes (runs of 24, 4 and 1 of them),
        // 10 s windows from the last minute to the end
        PercentileQuery query = query(RANGES.get(1));
        PercentileResult expected = uncached(windows, query);

        assertThat(service.percentiles(query)).isEqualTo(expected);
        assertThat(scans.getAndSet(0)).as("asked once: the minutes and both edges of 10 s windows, a scan each").isEqualTo(3);
        assertThat(service.percentiles(query)).isEqualTo(expected);
        assertThat(scans.getAndSet(0)).as("asked twice: the same scans, their runs' sums built from them").isEqualTo(3);
        assertThat(service.percentiles(query)).isEqualTo(expected);
        assertThat(scans.get()).as("from kept sums").isZero();
    }

    @Test
    void a_window_written_into_a_kept_run_retires_it() {
        InMemoryHistogramStore store = store(2);
        PercentileService service = new PercentileService(store, PercentileService.DEFAULT_STEPS, cache);
        service.percentiles(query(RANGES.getFirst()));
        PercentileResult before = service.percentiles(query(RANGES.getFirst())); // asked twice: kept
        assertThat(cache.size()).isPositive();

        // minute 30 emitted again with other counts (an upsert of its key)
        List<WindowedHistogram> replaced = new ArrayList<>();
        for (WindowedHistogram window : LatencyCountsTest.randomWindows(new Random(99), 6)) {
            replaced.add(WindowedHistogram.newBuilder(window)
                    .setWindowStartMillis(T0_MILLIS + 30 * 60_000L + replaced.size() * 10_000L).build());
        }
        store.put(rollup(replaced, 60));

        PercentileResult after = service.percentiles(query(RANGES.getFirst()));
        assertThat(after).isNotEqualTo(before).isEqualTo(uncached(store, query(RANGES.getFirst())));
        assertEveryRangeAnswersAsUncached(service, store);
    }

    @Test
    void a_deleted_window_and_windows_gone_by_retention_retire_their_runs() {
        InMemoryHistogramStore store = store(3);
        PercentileService service = new PercentileService(store, PercentileService.DEFAULT_STEPS, cache);
        assertEveryRangeAnswersAsUncached(service, store);

        store.remove(new HistogramKey(DB, HistogramKey.FLEET, 60, T0_MILLIS + 50 * 60_000L)); // its 10 s windows stay
        assertEveryRangeAnswersAsUncached(service, store);
        assertThat(service.percentiles(query(RANGES.getFirst())).windows()).isEqualTo(230 - 1 + 6);

        for (int minute = 0; minute < 60; minute++) { // the first hour gone, as retention takes it
            store.remove(new HistogramKey(DB, HistogramKey.FLEET, 60, T0_MILLIS + minute * 60_000L));
            for (int w = 0; w < 6; w++) {
                store.remove(new HistogramKey(DB, HistogramKey.FLEET, 10, T0_MILLIS + minute * 60_000L + w * 10_000L));
            }
        }
        assertEveryRangeAnswersAsUncached(service, store);
    }

    @Test
    void a_restore_retires_every_run() {
        RestoringStore store = new RestoringStore(store(4));
        PercentileService service = new PercentileService(store, PercentileService.DEFAULT_STEPS, cache);
        assertEveryRangeAnswersAsUncached(service, store);

        store.restore(store(5)); // other windows under the same keys, no window update seen
        assertEveryRangeAnswersAsUncached(service, store);
    }

    @Test
    void a_window_of_another_series_or_resolution_keeps_the_runs() {
        InMemoryHistogramStore store = store(6);
        long minutes = store.version(DB, HistogramKey.FLEET, 60, T0_MILLIS, T0_MILLIS + 3 * 3_600_000L);
        long series = store.seriesVersion();

        store.put(WindowedHistogram.newBuilder(LatencyCountsTest.randomWindows(new Random(7), 1).getFirst())
                .setTarget(OTHER.target()).setResolutionSeconds(60).setWindowStartMillis(T0_MILLIS)
                .setWindowEndMillis(T0_MILLIS + 60_000).build());
        store.put(WindowedHistogram.newBuilder(LatencyCountsTest.randomWindows(new Random(8), 1).getFirst())
                .setWindowStartMillis(T0_MILLIS + 4 * 3_600_000L).setWindowEndMillis(T0_MILLIS + 4 * 3_600_000L + 10_000)
                .build());
        assertThat(store.version(DB, HistogramKey.FLEET, 60, T0_MILLIS, T0_MILLIS + 3 * 3_600_000L)).isEqualTo(minutes);
        assertThat(store.seriesVersion()).isEqualTo(series);

        long nextDayMillis = T0_MILLIS + 12 * 3_600_000L; // 00:00Z the next day
        long nextDay = store.version(DB, HistogramKey.FLEET, 60, nextDayMillis, nextDayMillis + 3_600_000L);
        store.put(WindowedHistogram.newBuilder(LatencyCountsTest.randomWindows(new Random(10), 1).getFirst())
                .setResolutionSeconds(60).setWindowStartMillis(nextDayMillis).setWindowEndMillis(nextDayMillis + 60_000)
                .build());
        assertThat(store.version(DB, HistogramKey.FLEET, 60, T0_MILLIS, T0_MILLIS + 3 * 3_600_000L))
                .as("a minute of the next day keeps the runs of this one").isEqualTo(minutes);
        assertThat(store.version(DB, HistogramKey.FLEET, 60, nextDayMillis, nextDayMillis + 3_600_000L))
                .isGreaterThan(nextDay);
        assertThat(store.version(DB, HistogramKey.FLEET, 60, T0_MILLIS, nextDayMillis + 1))
                .as("a range over both days").isGreaterThan(minutes);

        store.put(WindowedHistogram.newBuilder(LatencyCountsTest.randomWindows(new Random(9), 1).getFirst())
                .setHost("host-1").build());
        assertThat(store.seriesVersion()).as("a new host of db is a new series entry").isNotEqualTo(series);
        store.changedAll();
        assertThat(store.version(DB, HistogramKey.FLEET, 60, T0_MILLIS, T0_MILLIS + 3 * 3_600_000L))
                .isGreaterThan(minutes);
    }

    @Test
    void windows_the_store_cannot_version_are_never_kept() {
        InMemoryHistogramStore windows = store(10);
        HistogramStore remote = new ForwardingHistogramStore(windows) { // as the routing store answers for another instance's series
            @Override
            public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                long toMillisExclusive) {
                return UNVERSIONED;
            }

            @Override
            public long seriesVersion() {
                return UNVERSIONED;
            }
        };
        PercentileService service = new PercentileService(remote, PercentileService.DEFAULT_STEPS, cache);
        assertEveryRangeAnswersAsUncached(service, remote);
        assertThat(cache.size()).isZero();
    }

    @Test
    void past_its_budget_the_cache_drops_the_least_recently_used_runs() {
        InMemoryHistogramStore store = store(11);
        RunCache small = new RunCache(200_000);
        PercentileService service = new PercentileService(store, PercentileService.DEFAULT_STEPS, small);
        assertEveryRangeAnswersAsUncached(service, store);
        assertThat(small.bytes()).isLessThanOrEqualTo(200_000);
    }

    @Test
    void sums_of_a_day_or_more_are_not_pushed_out_by_many_shorter_ones() {
        RunCache small = new RunCache(400_000);
        List<Latency> latencies = List.of(Latency.RESPONSE, Latency.SERVICE);
        Random random = new Random(13);
        RunCache.Key day = new RunCache.Key(DB, HistogramKey.FLEET, 3_600, T0_MILLIS, T0_MILLIS + RunCache.DAY_MILLIS);
        RunSum daySum = RunSum.of(1, LatencyCountsTest.randomWindows(random, 24), latencies);
        small.put(day, daySum);
        for (int minute = 0; minute < 1_000; minute++) { // a dashboard's edges, each asked twice
            RunCache.Key edge = new RunCache.Key(DB, HistogramKey.FLEET, 60, T0_MILLIS + minute * 60_000L,
                    T0_MILLIS + (minute + 4) * 60_000L);
            small.put(edge, RunSum.of(1, LatencyCountsTest.randomWindows(random, 4), latencies));
        }
        assertThat(small.get(day, 1, latencies)).isSameAs(daySum);
        assertThat(small.get(day, 1, List.of(Latency.RESPONSE))).isSameAs(daySum);
        assertThat(small.get(day, 1, List.of(Latency.RESPONSE, Latency.parse("connect"))))
                .as("a sum without the connect phase").isNull();
        assertThat(small.bytes()).isLessThanOrEqualTo(400_000);
        assertThat(small.size()).as("short sums kept in their share").isGreaterThan(1).isLessThan(1_000);
    }

    /** A store whose windows are replaced wholesale, as Kafka Streams restores a store from its changelog. */
    private static final class RestoringStore implements HistogramStore {
        private final StoreVersions versions = new StoreVersions();
        private volatile InMemoryHistogramStore windows;

        RestoringStore(InMemoryHistogramStore windows) {
            this.windows = windows;
        }

        void restore(InMemoryHistogramStore restored) {
            windows = restored;
            versions.changedAll();
        }

        @Override
        public List<SeriesInfo> series() {
            return windows.series();
        }

        @Override
        public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                               long toMillisExclusive) {
            return windows.windows(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
        }

        @Override
        public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                            long toMillisExclusive) {
            return versions.version(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
        }

        @Override
        public long seriesVersion() {
            return versions.seriesVersion();
        }

        @Override
        public boolean isRunning() {
            return true;
        }

        @Override
        public boolean isCaughtUp() {
            return true;
        }
    }
}
