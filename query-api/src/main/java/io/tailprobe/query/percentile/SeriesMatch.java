package io.tailprobe.query.percentile;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The stored series a {@link SeriesRange} names (one per protocol when it names none) and the fewest
 * stored windows that cover its range, whole or step by step.
 *
 * <p>Which windows: those whose start lies in {@code [floor(from / resolution) * resolution, to)} at the
 * finest resolution read — a query from 14:02:05 to 14:03:00 at 10 s covers the six windows starting
 * 14:02:00 … 14:02:50. Closed rollups (1 min, 10 min, 1 h) stand in for their windows wherever they lie wholly
 * inside that span and inside one step (see {@link #cover}); a range given one resolution reads only
 * windows of that resolution.
 */
public final class SeriesMatch {
    private final HistogramStore store;
    private final SeriesRange range;
    /** Per series (protocol), its stored resolutions that this match reads, finest first. */
    private final Map<SeriesKey, List<Integer>> resolutions;
    private final int resolutionSeconds;

    private SeriesMatch(HistogramStore store, SeriesRange range, Map<SeriesKey, List<Integer>> resolutions) {
        this.store = store;
        this.range = range;
        this.resolutions = resolutions;
        this.resolutionSeconds = resolutions.values().stream().mapToInt(List::getFirst).min().orElseThrow();
    }

    /**
     * The stored series of {@code range}.
     *
     * @throws UnknownSeriesException when no stored series has its target, probe type, protocol and host
     * @throws InvalidQueryException when it names a resolution none of them is stored at
     */
    public static SeriesMatch of(HistogramStore store, SeriesRange range) {
        return of(store, range, store.series(range.target()));
    }

    /** As {@link #of(HistogramStore, SeriesRange)}, choosing among {@code candidates} read from the store before. */
    public static SeriesMatch of(HistogramStore store, SeriesRange range, List<SeriesInfo> candidates) {
        candidates = narrow(candidates, SeriesInfo::target, range.target(), "target", range);
        candidates = narrow(candidates, SeriesInfo::probeType, range.probeType(), "probe", range);
        if (range.protocol() != null) {
            candidates = narrow(candidates, SeriesInfo::protocol, range.protocol(), "protocol", range);
        }
        candidates = narrow(candidates, SeriesInfo::host, range.host(), "host", range);
        if (range.resolutionSeconds() > 0) {
            List<SeriesInfo> atResolution = candidates.stream()
                    .filter(s -> s.resolutionSeconds() == range.resolutionSeconds()).toList();
            if (atResolution.isEmpty()) {
                throw new InvalidQueryException("resolution", "must be a resolution the series is stored at, in seconds: "
                        + candidates.stream().map(SeriesInfo::resolutionSeconds).distinct().sorted().toList(),
                        range.resolutionSeconds() + "s");
            }
            candidates = atResolution;
        }
        Map<SeriesKey, List<Integer>> resolutions = new LinkedHashMap<>();
        for (SeriesInfo info : candidates) {
            resolutions.computeIfAbsent(info.series(), k -> new ArrayList<>()).add(info.resolutionSeconds());
        }
        resolutions.replaceAll((series, list) -> list.stream().distinct().sorted().toList());
        return new SeriesMatch(store, range, resolutions);
    }

    public SeriesRange range() {
        return range;
    }

    /** The protocols read, e.g. {@code [h2, http/1.1]} for an HTTP target queried without a protocol. */
    public List<String> protocols() {
        return resolutions.keySet().stream().map(SeriesKey::protocol).toList();
    }

    /** The finest resolution read: steps must be multiples of it, and the range starts on one of its windows. */
    public int resolutionSeconds() {
        return resolutionSeconds;
    }

    /** The windows of the whole range, as one step. */
    public StepWindows windows() {
        long finestMillis = resolutionSeconds * 1_000L;
        long fromMillis = Math.floorDiv(range.fromMillis(), finestMillis) * finestMillis;
        return windows(fromMillis, Math.max(range.toMillis() - fromMillis, 1));
    }

    /**
     * The windows of the range in steps of {@code stepMillis}, a multiple of {@link #resolutionSeconds()};
     * steps start at multiples of {@code stepMillis} (UTC), the first one at or before {@code from}.
     */
    public StepWindows windows(long stepMillis) {
        if (stepMillis <= 0 || stepMillis % (resolutionSeconds * 1_000L) != 0) {
            throw new IllegalArgumentException("step must be a positive multiple of " + resolutionSeconds + " s, got "
                    + stepMillis + " ms");
        }
        return windows(Math.floorDiv(range.fromMillis(), stepMillis) * stepMillis, stepMillis);
    }

    /**
     * The windows of the whole range as {@link #windows()} gives them, except that whole aligned runs
     * of a rollup resolution come as their sums, from {@code cache} where it holds them at the store's
     * current version ({@link #RUN_WINDOWS}), and built and kept there once asked for twice
     * ({@link RunCache#admit}). Merging the windows and the sums gives exactly what merging
     * {@code windows().all()} gives.
     */
    Cover cover(RunCache cache, Collection<Latency> latencies) {
        long finestMillis = resolutionSeconds * 1_000L;
        long fromMillis = Math.floorDiv(range.fromMillis(), finestMillis) * finestMillis;
        List<WindowedHistogram> windows = new ArrayList<>();
        List<RunSum> runs = new ArrayList<>();
        for (Map.Entry<SeriesKey, List<Integer>> series : resolutions.entrySet()) {
            windows.addAll(cover(series.getKey(), series.getValue(), fromMillis, range.toMillis(),
                    new Runs(cache, latencies, runs)));
        }
        return new Cover(fromMillis, range.toMillis(), windows, runs);
    }

    /**
     * The range {@code [fromMillis, toMillis)} as windows plus sums of runs of windows.
     *
     * @param windows every window not in a run
     */
    record Cover(long fromMillis, long toMillis, List<WindowedHistogram> windows, List<RunSum> runs) {}

    /**
     * The run lengths, in windows of the resolution, that a rollup resolution's stretch of a range is cut
     * into, longest first, each aligned to multiples of its length: whole UTC days of 1 h windows, then
     * four hours, then single hours (at most three on each side); 24, 4 and 1 minutes of 1 min windows.
     */
    static final int[] RUN_WINDOWS = {24, 4, 1};
    /**
     * The finest windows are kept one by one, and only where a stretch of them is at most
     * {@value #MAX_KEPT_FINEST_WINDOWS} long (the edges of a covered range, the latest window): a
     * range asked at the finest resolution alone would otherwise fill the cache with single windows.
     */
    private static final int[] SINGLE_WINDOWS = {1};
    static final int MAX_KEPT_FINEST_WINDOWS = 12;

    /** Where {@link #cover} puts the sums of whole runs, and the cache it takes them from. */
    private record Runs(RunCache cache, Collection<Latency> latencies, List<RunSum> sums) {}

    private StepWindows windows(long fromMillis, long stepMillis) {
        int stepCount = (int) Math.max(1, Math.ceilDiv(range.toMillis() - fromMillis, stepMillis));
        List<List<WindowedHistogram>> steps = new ArrayList<>(stepCount);
        for (int i = 0; i < stepCount; i++) {
            steps.add(new ArrayList<>());
        }
        for (Map.Entry<SeriesKey, List<Integer>> series : resolutions.entrySet()) {
            // a window may stand in for finer ones only if it never straddles two steps
            List<Integer> usable = series.getValue().stream()
                    .filter(seconds -> stepMillis % (seconds * 1_000L) == 0 || stepCount == 1).toList();
            for (WindowedHistogram window : cover(series.getKey(), usable.isEmpty() ? series.getValue() : usable,
                    fromMillis, range.toMillis(), null)) {
                int step = (int) Math.min(stepCount - 1, (window.getWindowStartMillis() - fromMillis) / stepMillis);
                steps.get(step).add(window);
            }
        }
        return new StepWindows(fromMillis, range.toMillis(), stepMillis, steps);
    }

    /**
     * The fewest stored windows that cover {@code [fromMillis, toMillis)} exactly: closed rollup
     * windows (1 h, then 10 min, then 1 min) wherever they lie wholly inside the range, and the finest windows for
     * the rest, including the window that holds {@code toMillis}. A rollup not closed yet (the
     * current hour) is simply not stored, so its span falls through to finer windows. The answer is
     * the same as merging only the finest windows, since a rollup is exactly the sum of its windows;
     * a 7-day query reads at most about 200 windows instead of 60 480. With {@code runs}, the windows of each
     * stretch come as sums where {@link #stretch} has them; without, all are read.
     */
    private List<WindowedHistogram> cover(SeriesKey series, List<Integer> resolutionsSeconds, long fromMillis,
                                          long toMillis, Runs runs) {
        List<Integer> coarseFirst = resolutionsSeconds.stream().sorted(Comparator.reverseOrder()).toList();
        List<WindowedHistogram> chosen = new ArrayList<>();
        List<long[]> gaps = List.of(new long[] {fromMillis, toMillis});
        for (int i = 0; i < coarseFirst.size() - 1; i++) {
            int seconds = coarseFirst.get(i);
            long sizeMillis = seconds * 1_000L;
            List<long[]> remaining = new ArrayList<>();
            for (long[] gap : gaps) {
                long firstStart = Math.ceilDiv(gap[0], sizeMillis) * sizeMillis;
                long endOfLast = Math.floorDiv(gap[1], sizeMillis) * sizeMillis;
                long cursor = gap[0];
                if (endOfLast > firstStart) {
                    List<Piece> pieces = runs == null
                            ? List.of(new Piece.Windows(store.windows(series, range.host(), seconds, firstStart, endOfLast)))
                            : stretch(series, seconds, firstStart, endOfLast, RUN_WINDOWS, runs);
                    for (Piece piece : pieces) {
                        switch (piece) {
                            case RunSum sum -> {
                                for (int w = 0; w < sum.windowCount(); w++) {
                                    cursor = take(sum.startsMillis()[w], sum.endsMillis()[w], cursor, remaining);
                                }
                                runs.sums().add(sum);
                            }
                            case Piece.Windows read -> {
                                for (WindowedHistogram window : read.windows()) {
                                    cursor = take(window.getWindowStartMillis(), window.getWindowEndMillis(), cursor,
                                            remaining);
                                }
                                chosen.addAll(read.windows());
                            }
                        }
                    }
                }
                if (cursor < gap[1]) {
                    remaining.add(new long[] {cursor, gap[1]});
                }
            }
            gaps = remaining;
        }
        int finest = coarseFirst.getLast();
        for (long[] gap : gaps) {
            if (runs == null || gap[1] - gap[0] > MAX_KEPT_FINEST_WINDOWS * finest * 1_000L) {
                chosen.addAll(store.windows(series, range.host(), finest, gap[0], gap[1]));
                continue;
            }
            for (Piece piece : stretch(series, finest, gap[0], gap[1], SINGLE_WINDOWS, runs)) {
                switch (piece) {
                    case RunSum sum -> runs.sums().add(sum);
                    case Piece.Windows read -> chosen.addAll(read.windows());
                }
            }
        }
        return chosen;
    }

    /** A window {@code [startMillis, endMillis)} taken at {@code cursor}: the gap before it, if any, stays to cover. */
    private static long take(long startMillis, long endMillis, long cursor, List<long[]> remaining) {
        if (startMillis > cursor) {
            remaining.add(new long[] {cursor, startMillis});
        }
        return endMillis;
    }

    /**
     * The windows of one resolution starting in {@code [fromMillis, toMillis)} (the stretch of a range
     * that resolution covers: a moving 7-day range has the same 1 h stretch for an hour), in time order:
     * one kept sum of them all, or, on a miss, the sums of its runs and the windows around them
     * ({@link #pieces}), added up and kept as one sum when the stretch was asked for before.
     */
    private List<Piece> stretch(SeriesKey series, int resolutionSeconds, long fromMillis, long toMillis,
                                int[] runWindows, Runs runs) {
        long version = store.version(series, range.host(), resolutionSeconds, fromMillis, toMillis); // before any window
        if (version == HistogramStore.UNVERSIONED) {
            return List.of(new Piece.Windows(store.windows(series, range.host(), resolutionSeconds, fromMillis, toMillis)));
        }
        RunCache.Key key = new RunCache.Key(series, range.host(), resolutionSeconds, fromMillis, toMillis);
        RunSum sum = runs.cache().get(key, version, runs.latencies());
        if (sum != null) {
            return List.of(sum);
        }
        List<Piece> pieces = new ArrayList<>();
        pieces(series, resolutionSeconds, fromMillis, toMillis, runWindows, runs, pieces);
        if (pieces.size() > 1 && runs.cache().admit(key)) {
            sum = RunSum.combine(version, pieces, runs.latencies());
            runs.cache().put(key, sum);
            return List.of(sum);
        }
        return pieces;
    }

    /**
     * Cuts {@code [fromMillis, toMillis)} of one resolution into whole aligned runs of
     * {@code runWindows[level]} windows and the stretches around them, cut again at the next level, or
     * left as loose windows past the last ({@link #cut}); then each run comes as its kept sum, and the
     * rest is read with one range scan per stretch between kept sums: a missed run's windows are its
     * piece, or its sum, built and kept, when it was asked for before. In time order, so the pieces'
     * windows are those one range read gives, in the same order.
     */
    private void pieces(SeriesKey series, int resolutionSeconds, long fromMillis, long toMillis, int[] runWindows,
                        Runs runs, List<Piece> pieces) {
        List<Cut> cuts = new ArrayList<>();
        cut(resolutionSeconds * 1_000L, fromMillis, toMillis, runWindows, 0, cuts);
        int count = cuts.size();
        RunSum[] kept = new RunSum[count];
        long[] versions = new long[count];
        for (int i = 0; i < count; i++) {
            Cut cut = cuts.get(i);
            if (cut.run()) {
                // before its windows are read
                versions[i] = store.version(series, range.host(), resolutionSeconds, cut.startMillis(), cut.endMillis());
                kept[i] = runs.cache().get(cut.key(series, range.host(), resolutionSeconds), versions[i], runs.latencies());
            }
        }
        for (int first = 0; first < count; ) {
            if (kept[first] != null) {
                pieces.add(kept[first++]);
                continue;
            }
            int end = first;
            while (end < count && kept[end] == null) {
                end++;
            }
            List<WindowedHistogram> read = store.windows(series, range.host(), resolutionSeconds,
                    cuts.get(first).startMillis(), cuts.get(end - 1).endMillis());
            int w = 0;
            for (int i = first; i < end; i++) {
                Cut cut = cuts.get(i);
                int from = w;
                while (w < read.size() && read.get(w).getWindowStartMillis() < cut.endMillis()) {
                    w++;
                }
                List<WindowedHistogram> windows = read.subList(from, w);
                RunCache.Key key = cut.key(series, range.host(), resolutionSeconds);
                if (cut.run() && versions[i] != HistogramStore.UNVERSIONED && runs.cache().admit(key)) {
                    RunSum sum = RunSum.of(versions[i], windows, runs.latencies());
                    runs.cache().put(key, sum);
                    pieces.add(sum);
                } else if (!windows.isEmpty()) {
                    pieces.add(new Piece.Windows(windows));
                }
            }
            first = end;
        }
    }

    /** A whole aligned run of windows starting in {@code [startMillis, endMillis)}, or loose windows there. */
    private record Cut(long startMillis, long endMillis, boolean run) {
        RunCache.Key key(SeriesKey series, String host, int resolutionSeconds) {
            return new RunCache.Key(series, host, resolutionSeconds, startMillis, endMillis);
        }
    }

    /**
     * Appends to {@code cuts}, in time order, the whole aligned runs of {@code runWindows[level]} windows
     * of {@code [fromMillis, toMillis)}, and the stretches before and after them cut the same way at the
     * next level, or loose past the last.
     */
    private static void cut(long windowMillis, long fromMillis, long toMillis, int[] runWindows, int level,
                            List<Cut> cuts) {
        if (fromMillis >= toMillis) {
            return;
        }
        if (level == runWindows.length) {
            cuts.add(new Cut(fromMillis, toMillis, false));
            return;
        }
        long runMillis = runWindows[level] * windowMillis;
        long firstRun = Math.ceilDiv(fromMillis, runMillis) * runMillis;
        long endOfLastRun = Math.floorDiv(toMillis, runMillis) * runMillis;
        if (endOfLastRun <= firstRun) {
            cut(windowMillis, fromMillis, toMillis, runWindows, level + 1, cuts);
            return;
        }
        cut(windowMillis, fromMillis, firstRun, runWindows, level + 1, cuts);
        for (long start = firstRun; start < endOfLastRun; start += runMillis) {
            cuts.add(new Cut(start, start + runMillis, true));
        }
        cut(windowMillis, endOfLastRun, toMillis, runWindows, level + 1, cuts);
    }

    private static List<SeriesInfo> narrow(List<SeriesInfo> candidates, Function<SeriesInfo, String> field,
                                           String wanted, String parameter, SeriesRange range) {
        List<SeriesInfo> matching = candidates.stream().filter(s -> wanted.equals(field.apply(s))).toList();
        if (matching.isEmpty()) {
            throw new UnknownSeriesException(parameter, wanted, "no stored series with " + range.describe()
                    + " (nothing matches " + parameter + "=" + wanted + ")");
        }
        return matching;
    }
}
