package io.tailprobe.aggregator;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds each sample to its series' tumbling base window and emits the window's records when stream time
 * passes its end plus the grace period: one per host of the series, then the fleet-wide one ({@code *}).
 * A base window is {@link SeriesSamples}, the samples of all the series' hosts in one array, grouped by
 * host only at the close. Its samples are then appended to the series' window of the first rollup (a
 * minute), made the same way at its end; each closed first rollup window is added into the next rollup's
 * window as an {@link OpenWindow}, and each closed rollup window into the next coarser one (each rollup is
 * a multiple of the one before: a 10 min window is the sum of its ten 1 min windows, so a window is added
 * once, not once per rollup). A first rollup longer than {@link #MAX_BASE_WINDOWS_PER_SAMPLED_ROLLUP} base
 * windows is made of the base windows instead, so its samples are not held for long. Windows of the same
 * end close finest first, so a window closes only after every window or sample added into it: a sample
 * is recorded once in each resolution, and every fleet-wide or coarser window is an exact sum.
 *
 * <p>Open windows live in memory only, the rollups' histograms as {@link BucketCounts}, so a sample
 * costs an append and nothing is written per sample. What a commit must hold is small: a
 * checkpoint of stream time, the offset after the last processed sample and the offset of the
 * first sample of any still-open base window, written just before each commit
 * ({@link CommitHookedStores}) in the commit's transaction. When a task starts with a checkpoint
 * (a restart, a crash, a rebalance), it rebuilds exactly the windows that were open at that commit
 * from Kafka ({@link TaskHistory}): the samples from the replay offset up to the checkpointed
 * offset, each added to its window if that window was still open at the checkpoint's stream time
 * (a sample of a window already closed was emitted or dead-lettered then), and the rollups from
 * the windows already emitted for their periods (a rollup's closed finer windows: a 10 min window
 * holds the base windows before the first open 1 min window, and a 1 min window its closed base
 * windows, added to what its samples make at its close). Under exactly-once the windows emitted, the
 * offsets and the checkpoint commit together, so no sample is counted twice or lost.
 *
 * <p>Stream time is the largest scheduled start seen in this task's partition. Samples for a window
 * that has already closed are dead-lettered as late. When nothing has arrived for {@code idleClose}
 * of wall-clock time and the partition is caught up, stream time moves up to the wall clock, so the
 * last windows close after probes stop.
 */
final class WindowProcessor implements Processor<String, byte[], String, byte[]> {
    static final String CHECKPOINT_STORE = "checkpoint";
    static final String REASON_HEADER = "tailprobe.reason";
    static final String DETAIL_HEADER = "tailprobe.detail";
    private static final String STREAM_TIME_KEY = "stream-time-millis";
    private static final String NEXT_OFFSET_KEY = "next-offset";
    private static final String REPLAY_FROM_OFFSET_KEY = "replay-from-offset";
    private static final Logger LOG = LoggerFactory.getLogger(WindowProcessor.class);

    private final SampleWindows baseWindows;
    private final int resolutionSeconds;
    private final long graceMillis;
    private final long idleCloseMillis;
    private final SampleRules rules;
    /** Rollup resolutions, coarser than the base one. */
    private final int[] rollupSeconds;
    /** The windows of each rollup resolution, by index in {@link #rollupSeconds}. */
    private final SampleWindows[] rollupWindows;
    private final String samplesTopic;
    /** The output topic of each resolution, by {@link #resolutionIndex}. */
    private final String[] histogramTopics;
    /** The sink to that topic. */
    private final String[] histogramSinks;
    private final AggregatorMetrics metrics;
    private final CommitHookedStores commitHooks;
    private final InputLag inputLag;
    private final TaskHistory history;
    private final Set<DeadLetterReason> reasonsLogged = EnumSet.noneOf(DeadLetterReason.class);
    private final Serializer<WindowedHistogram> histogramSerializer = Topics.histogramSerde().serializer();
    private final SampleReader reader = new SampleReader();
    /** The sample being added, read into the same instance each time. */
    private final SampleFields sample = new SampleFields();

    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, Long> checkpoint;
    /**
     * Every open window kept as an {@link OpenWindow}, by key (not by its store key: looking one up then
     * needs no string built): the rollups made of windows, and after a restart the first rollup's windows
     * rebuilt from the base windows already emitted.
     */
    private final Map<HistogramKey, OpenWindow> open = new HashMap<>();
    /** Those by end time. */
    private final TreeMap<Long, List<OpenWindow>> openByEndMillis = new TreeMap<>();
    /** By record key: each series with samples in an open base window or first rollup window. */
    private final Map<String, SeriesState> bySeries = new HashMap<>();
    /** Every series' open base windows, by end time. */
    private final TreeMap<Long, List<SeriesWindow>> openBaseByEndMillis = new TreeMap<>();
    /** Every series' open first rollup windows made of samples ({@link #firstRollupOfSamples}), by end time. */
    private final TreeMap<Long, List<SeriesWindow>> openFirstRollupByEndMillis = new TreeMap<>();
    /**
     * Base windows in the order they opened; closed ones leave from the front. Windows open at their
     * first sample and samples come in offset order, so the first open one holds the smallest input
     * offset of any open window (rollups hold none, or the samples of base windows already emitted): the
     * offset a restart replays from.
     */
    private final ArrayDeque<SeriesSamples> baseByOpening = new ArrayDeque<>();
    /**
     * Whether the first rollup's windows are made from their samples like the base windows (each closed
     * base window's samples appended to its rollup window's), not by adding the base windows: when it is
     * at most {@link #MAX_BASE_WINDOWS_PER_SAMPLED_ROLLUP} base windows long, as a minute of 10 s windows.
     */
    private final boolean firstRollupOfSamples;
    private static final int MAX_BASE_WINDOWS_PER_SAMPLED_ROLLUP = 6;
    private final SeriesSamples.Scratch scratch = new SeriesSamples.Scratch();
    /** The windows of the end being closed, by {@link #addClosing class}; empty between closes. */
    private final List<OpenWindow>[] closingByClass;
    private long streamTimeMillis = Long.MIN_VALUE;
    /** The offset after the last sample processed; -1 before the first. */
    private long nextOffset = -1;
    /** The event time of the sample {@link #addSample} last added. */
    private long addedEventMillis;
    private long checkpointedStreamTimeMillis = Long.MIN_VALUE;
    private long checkpointedNextOffset = -1;
    private long checkpointedReplayFromOffset = -1;
    private long lastRecordWallMillis;
    private long lastLagLogWallMillis = Long.MIN_VALUE / 2;

    WindowProcessor(AggregatorConfig config, AggregatorMetrics metrics, CommitHookedStores commitHooks,
                    InputLag inputLag, TaskHistory history) {
        this.baseWindows = new SampleWindows(config.window().size());
        this.resolutionSeconds = config.windowSizeSeconds();
        this.graceMillis = config.window().grace().toMillis();
        this.idleCloseMillis = config.window().idleClose().toMillis();
        this.rules = SampleRules.of(config);
        this.rollupSeconds = config.window().rollups().stream().mapToInt(d -> (int) d.toSeconds()).toArray();
        this.rollupWindows = new SampleWindows[rollupSeconds.length];
        this.firstRollupOfSamples = rollupSeconds.length > 0
                && rollupSeconds[0] <= MAX_BASE_WINDOWS_PER_SAMPLED_ROLLUP * resolutionSeconds;
        for (int i = 0; i < rollupSeconds.length; i++) {
            rollupWindows[i] = SampleWindows.ofSeconds(rollupSeconds[i]);
        }
        @SuppressWarnings("unchecked")
        List<OpenWindow>[] byClass = new List[2 * (1 + rollupSeconds.length)];
        Arrays.setAll(byClass, i -> new ArrayList<>());
        this.closingByClass = byClass;
        this.samplesTopic = config.topics().samples();
        this.histogramTopics = config.resolutionsSeconds().stream().map(config.topics()::histogramsTopic).toArray(String[]::new);
        this.histogramSinks = config.resolutionsSeconds().stream().map(LatencyTopology::histogramsSink).toArray(String[]::new);
        this.metrics = metrics;
        this.commitHooks = commitHooks;
        this.inputLag = inputLag;
        this.history = history;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        // A task whose commit failed under exactly-once (TaskCorruptedException) is closed dirty and
        // initialized again with this same processor: its windows in memory hold samples the commit did
        // not, which the restore below and the re-read input would add a second time.
        forgetOpenWindows();
        this.checkpoint = context.getStateStore(CHECKPOINT_STORE);
        Long next = checkpoint.get(NEXT_OFFSET_KEY);
        if (next != null) {
            streamTimeMillis = checkpointedStreamTimeMillis = checkpoint.get(STREAM_TIME_KEY);
            nextOffset = checkpointedNextOffset = next;
            checkpointedReplayFromOffset = checkpoint.get(REPLAY_FROM_OFFSET_KEY);
            restore(checkpointedReplayFromOffset, next);
        }
        commitHooks.register(context.taskId(), this::writeCheckpoint);
        lastRecordWallMillis = context.currentSystemTimeMs();
        context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, this::closeIdleWindows);
    }

    private void forgetOpenWindows() {
        open.clear();
        openByEndMillis.clear();
        bySeries.clear();
        openBaseByEndMillis.clear();
        openFirstRollupByEndMillis.clear();
        baseByOpening.clear();
        for (List<OpenWindow> windows : closingByClass) {
            windows.clear();
        }
        streamTimeMillis = Long.MIN_VALUE;
        nextOffset = -1;
        checkpointedStreamTimeMillis = Long.MIN_VALUE;
        checkpointedNextOffset = -1;
        checkpointedReplayFromOffset = -1;
    }

    /** Rebuilds the windows open at the checkpoint: rollups from emitted base windows, base windows from samples. */
    private void restore(long replayFromOffset, long toOffsetExclusive) {
        long startNanos = System.nanoTime();
        int partition = context.taskId().partition();
        long[] baseWindowsRead = new long[1];
        long[] firstOpenRollupStart = new long[rollupSeconds.length];
        long readFromMillis = Long.MAX_VALUE;
        for (int i = 0; i < rollupSeconds.length && streamTimeMillis != Long.MIN_VALUE; i++) {
            long sizeMillis = rollupSeconds[i] * 1000L;
            long lastClosedEnd = streamTimeMillis - graceMillis; // a window ending at or before this has closed
            firstOpenRollupStart[i] = Math.floorDiv(lastClosedEnd - sizeMillis, sizeMillis) * sizeMillis + sizeMillis;
            readFromMillis = Math.min(readFromMillis, firstOpenRollupStart[i]);
        }
        if (readFromMillis != Long.MAX_VALUE) {
            history.committedRecords(histogramTopics[0], partition, readFromMillis, record -> {
                HistogramKey key = HistogramKey.parse(new String(record.key(), StandardCharsets.UTF_8));
                if (key.resolutionSeconds() != resolutionSeconds) {
                    return;
                }
                // A closed base window sits in the finest open rollup that holds it: one in the first open
                // 1 min window went there; one in an earlier, closed minute went, with its minute, into the
                // 10 min window (or, its 10 min window closed too, on into the hour).
                for (int i = 0; i < rollupSeconds.length; i++) {
                    if (key.windowStartMillis() >= firstOpenRollupStart[i]) {
                        rollUp(OpenWindow.of(Topics.histogramSerde().decode(record.value())), i);
                        baseWindowsRead[0]++;
                        return;
                    }
                }
            });
        }
        long[] samplesReplayed = new long[1];
        if (replayFromOffset < toOffsetExclusive) {
            history.samples(partition, replayFromOffset, toOffsetExclusive, record -> {
                String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
                if (addSample(key, record.value(), record.offset()) == null) {
                    samplesReplayed[0]++;
                }
            });
        }
        LOG.info("task {} restored {} open windows in {} ms: {} samples replayed from {}-{} offsets {}..{}, {} closed "
                        + "base windows re-read into their open rollups", context.taskId(), openWindows(),
                (System.nanoTime() - startNanos) / 1_000_000, samplesReplayed[0], samplesTopic, partition,
                replayFromOffset, toOffsetExclusive, baseWindowsRead[0]);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        lastRecordWallMillis = context.currentSystemTimeMs();
        Optional<RecordMetadata> metadata = context.recordMetadata();
        long offset = metadata.isPresent() ? metadata.get().offset() : nextOffset; // no Long boxed per record
        nextOffset = offset + 1;
        Rejection rejected = addSample(record.key(), record.value(), offset);
        if (rejected != null) {
            deadLetter(record, rejected.reason(), rejected.detail());
            return;
        }
        metrics.sampleIn();
        if (addedEventMillis > streamTimeMillis) {
            advanceStreamTime(addedEventMillis);
        }
    }

    /** Why a record was not added to a window. */
    private record Rejection(DeadLetterReason reason, String detail) {}

    /** Adds the sample in {@code value} to its windows, or says why it cannot be added. */
    private Rejection addSample(String key, byte[] value, long offset) {
        SampleFields sample = this.sample;
        if (reader.read(value, sample)) {
            String invalid = rules.invalid(sample);
            if (invalid != null) {
                return new Rejection(DeadLetterReason.INVALID, invalid);
            }
        } else {
            SampleRules.Verdict verdict = rules.decodeAndValidate(value);
            if (!verdict.accepted()) {
                return new Rejection(verdict.reason(), verdict.detail());
            }
            sample.from(verdict.sample());
        }
        SeriesState series = key == null ? null : bySeries.get(key);
        if (series == null || !series.isOf(sample)) {
            // the same rule as SampleRules.check, with the series' windows looked up once per record
            SeriesKey sampleSeries = new SeriesKey(sample.target, sample.probeType, sample.protocol);
            String seriesKey = sampleSeries.encode();
            String mismatch = SampleRules.keyMismatch(key, seriesKey);
            if (mismatch != null) {
                return new Rejection(DeadLetterReason.KEY_MISMATCH, mismatch);
            }
            series = bySeries.get(seriesKey);
            if (series == null) {
                series = new SeriesState(sampleSeries, seriesKey);
                bySeries.put(seriesKey, series);
            }
        }
        long eventMillis = SampleRules.eventMillis(sample.scheduledStartMicros);
        long windowStart = baseWindows.startMillis(eventMillis);
        long windowEnd = baseWindows.endMillis(windowStart);
        if (windowEnd + graceMillis <= streamTimeMillis) {
            return new Rejection(DeadLetterReason.LATE, "window " + windowStart + ".." + windowEnd
                    + " closed; stream time " + streamTimeMillis + ", grace " + graceMillis + " ms");
        }
        SeriesSamples window = series.latest;
        if (window == null || window.startMillis() != windowStart) {
            window = series.openBase(windowStart);
            series.latest = window;
        }
        window.add(sample, offset);
        addedEventMillis = eventMillis;
        return null;
    }

    /**
     * One series' open windows made of samples: its base windows (one, or two while a late sample's is
     * still within grace) and its first rollup's. Leaves {@link #bySeries} when the last of them closes.
     */
    private final class SeriesState {
        final SeriesKey key;
        final String recordKey;
        final List<SeriesSamples> openBase = new ArrayList<>(2);
        final List<SeriesSamples> openFirstRollup = new ArrayList<>(2);
        /** The base window the last sample went into; null once it closed. */
        SeriesSamples latest;
        /** The samples of the last base and first rollup windows closed: a new one's arrays start that large. */
        int lastBaseSamples;
        int lastFirstRollupSamples;

        SeriesState(SeriesKey key, String recordKey) {
            this.key = key;
            this.recordKey = recordKey;
        }

        boolean isOf(SampleFields sample) {
            return key.target().equals(sample.target) && key.probeType().equals(sample.probeType)
                    && key.protocol().equals(sample.protocol);
        }

        /** The open base window starting at {@code startMillis}, opened when there is none. */
        SeriesSamples openBase(long startMillis) {
            for (SeriesSamples window : openBase) {
                if (window.startMillis() == startMillis) {
                    return window;
                }
            }
            SeriesSamples window = new SeriesSamples(key, resolutionSeconds, startMillis, lastBaseSamples);
            openBase.add(window);
            baseByOpening.add(window);
            openBaseByEndMillis.computeIfAbsent(window.endMillis(), end -> new ArrayList<>()).add(new SeriesWindow(this, window));
            return window;
        }

        /** The open first rollup window starting at {@code startMillis}, opened when there is none. */
        SeriesSamples openFirstRollup(long startMillis) {
            for (SeriesSamples window : openFirstRollup) {
                if (window.startMillis() == startMillis) {
                    return window;
                }
            }
            SeriesSamples window = new SeriesSamples(key, rollupSeconds[0], startMillis, lastFirstRollupSamples);
            openFirstRollup.add(window);
            openFirstRollupByEndMillis.computeIfAbsent(window.endMillis(), end -> new ArrayList<>())
                    .add(new SeriesWindow(this, window));
            return window;
        }

        void closed(SeriesSamples window) {
            window.markClosed();
            if (openBase.remove(window)) {
                lastBaseSamples = window.samples();
                if (latest == window) {
                    latest = null;
                }
            } else {
                openFirstRollup.remove(window);
                lastFirstRollupSamples = window.samples();
            }
            if (openBase.isEmpty() && openFirstRollup.isEmpty()) {
                bySeries.remove(recordKey);
            }
        }
    }

    private OpenWindow openWindow(HistogramKey key) {
        OpenWindow window = open.get(key);
        if (window == null) {
            window = OpenWindow.empty(key);
            open.put(key, window);
            openByEndMillis.computeIfAbsent(window.windowEndMillis(), end -> new ArrayList<>()).add(window);
        }
        return window;
    }

    /** A series' open window made of samples, with the series it leaves when it closes. */
    private record SeriesWindow(SeriesState series, SeriesSamples window) {}

    /** The open windows, for the log: those made of samples (one a series) and those made of windows. */
    private int openWindows() {
        int windows = open.size();
        for (List<SeriesWindow> ofEnd : openBaseByEndMillis.values()) {
            windows += ofEnd.size();
        }
        for (List<SeriesWindow> ofEnd : openFirstRollupByEndMillis.values()) {
            windows += ofEnd.size();
        }
        return windows;
    }

    /** The changelogged store of the checkpoint, behind the layer that runs {@link #writeCheckpoint} before each commit. */
    static StoreBuilder<KeyValueStore<String, Long>> checkpointStore(CommitHookedStores commitHooks) {
        return Stores.keyValueStoreBuilder(commitHooks.wrap(Stores.inMemoryKeyValueStore(CHECKPOINT_STORE)),
                Serdes.String(), Serdes.Long());
    }

    /** Before each commit: the checkpoint the open windows can be rebuilt from, into the changelogged store. */
    private void writeCheckpoint() {
        if (nextOffset < 0) {
            return; // nothing processed or restored yet: nothing to rebuild
        }
        dropClosedBaseWindows();
        SeriesSamples firstOpened = baseByOpening.peekFirst();
        long replayFromOffset = firstOpened == null ? nextOffset : Math.min(nextOffset, firstOpened.firstOffset());
        if (streamTimeMillis != checkpointedStreamTimeMillis || nextOffset != checkpointedNextOffset
                || replayFromOffset != checkpointedReplayFromOffset) {
            checkpoint.putAll(List.of(KeyValue.pair(STREAM_TIME_KEY, streamTimeMillis),
                    KeyValue.pair(NEXT_OFFSET_KEY, nextOffset), KeyValue.pair(REPLAY_FROM_OFFSET_KEY, replayFromOffset)));
            checkpointedStreamTimeMillis = streamTimeMillis;
            checkpointedNextOffset = nextOffset;
            checkpointedReplayFromOffset = replayFromOffset;
        }
    }

    /** Drops the closed windows from the front of {@link #baseByOpening}. */
    private void dropClosedBaseWindows() {
        while (!baseByOpening.isEmpty() && baseByOpening.peekFirst().isClosed()) {
            baseByOpening.pollFirst();
        }
    }

    private void advanceStreamTime(long millis) {
        streamTimeMillis = millis;
        emitClosedWindows();
    }

    /**
     * Closes every window whose end plus grace stream time has passed, end by end and at each end finest
     * first: the base windows (each series' hosts', then the fleet-wide), the first rollup's made of
     * samples, then the windows made of windows by class ({@link #addClosing}).
     */
    private void emitClosedWindows() {
        while (true) {
            long endMillis = Math.min(firstKey(openBaseByEndMillis), Math.min(firstKey(openFirstRollupByEndMillis),
                    firstKey(openByEndMillis)));
            if (endMillis == Long.MAX_VALUE || endMillis + graceMillis > streamTimeMillis) {
                return;
            }
            List<SeriesWindow> bases = openBaseByEndMillis.remove(endMillis);
            if (bases != null) {
                for (SeriesWindow base : bases) {
                    closeBase(base.series(), base.window());
                }
                dropClosedBaseWindows();
            }
            // closing a base window can open a first rollup window of the same end
            List<SeriesWindow> firstRollups = openFirstRollupByEndMillis.remove(endMillis);
            if (firstRollups != null) {
                for (SeriesWindow firstRollup : firstRollups) {
                    closeFirstRollup(firstRollup.series(), firstRollup.window());
                }
            }
            List<OpenWindow> ofWindows = openByEndMillis.remove(endMillis);
            if (ofWindows == null) {
                continue;
            }
            addClosing(ofWindows);
            for (List<OpenWindow> windows : closingByClass) {
                for (OpenWindow window : windows) {
                    if (!window.isClosed()) { // a rebuilt first rollup window emitted with its samples' is
                        close(window);
                    }
                    // Closing a window can open another of the same end (a rollup's next rollup), always of
                    // a later class: take those in as they appear.
                    List<OpenWindow> opened = openByEndMillis.remove(endMillis);
                    if (opened != null) {
                        addClosing(opened);
                    }
                }
                windows.clear();
            }
        }
    }

    private static long firstKey(TreeMap<Long, ?> byEndMillis) {
        return byEndMillis.isEmpty() ? Long.MAX_VALUE : byEndMillis.firstKey();
    }

    /**
     * Emits a series' closed base windows, its hosts' and its fleet-wide one, and adds their samples into
     * the series' first rollup window (or, when that is not made of samples, the windows into theirs).
     */
    private void closeBase(SeriesState series, SeriesSamples base) {
        if (firstRollupOfSamples) { // before the base window leaves: the series stays while a window of it is open
            series.openFirstRollup(rollupWindows[0].startMillis(base.startMillis())).addAll(base);
        }
        series.closed(base);
        base.makeWindows(scratch, window -> {
            emit(window);
            if (!firstRollupOfSamples && rollupSeconds.length > 0) {
                rollUp(window, 0);
            }
        });
    }

    /**
     * Emits a series' closed first rollup windows made of samples, each with what a restart rebuilt of it
     * from the base windows emitted before ({@link #restore}), and adds each into its next rollup window.
     */
    private void closeFirstRollup(SeriesState series, SeriesSamples firstRollup) {
        series.closed(firstRollup);
        firstRollup.makeWindows(scratch, window -> {
            OpenWindow rebuilt = open.remove(window.key());
            if (rebuilt != null) {
                rebuilt.markClosed();
                window.merge(rebuilt);
            }
            emit(window);
            if (rollupSeconds.length > 1) {
                rollUp(window, 1);
            }
        });
    }

    /**
     * Sorts windows of one end into {@link #closingByClass}, keeping the order they opened in within a
     * class: base windows before rollups, finer rollups before coarser, hosts' before the fleet's.
     */
    private void addClosing(List<OpenWindow> windows) {
        for (OpenWindow window : windows) {
            HistogramKey key = window.key();
            int fleet = key.host().equals(HistogramKey.FLEET) ? 1 : 0;
            closingByClass[2 * resolutionIndex(key.resolutionSeconds()) + fleet].add(window);
        }
    }

    /** 0 for the base resolution, 1 + the index in {@link #rollupSeconds} for a rollup's. */
    private int resolutionIndex(int seconds) {
        if (seconds == resolutionSeconds) {
            return 0;
        }
        for (int i = 0; i < rollupSeconds.length; i++) {
            if (rollupSeconds[i] == seconds) {
                return i + 1;
            }
        }
        throw new IllegalStateException("a window of " + seconds + " s is of no configured resolution");
    }

    /** Emits a closed window made of windows, first adding it into the next rollup window of its host (or the fleet). */
    private void close(OpenWindow window) {
        open.remove(window.key());
        window.markClosed();
        int next = nextRollup(window.key().resolutionSeconds());
        if (next < rollupSeconds.length) {
            rollUp(window, next);
        }
        emit(window);
    }

    /** Writes a closed window to the topic of its resolution (and so to the store). */
    private void emit(OpenWindow window) {
        HistogramKey key = window.key();
        int resolution = resolutionIndex(key.resolutionSeconds());
        byte[] record = histogramSerializer.serialize(histogramTopics[resolution], window.toRecord());
        context.forward(new Record<>(window.storeKey(), record, key.windowStartMillis()), histogramSinks[resolution]);
        metrics.windowEmitted();
    }

    /** The index in {@link #rollupSeconds} of the rollup a closed window of {@code seconds} is added into. */
    private int nextRollup(int seconds) {
        int next = 0;
        while (next < rollupSeconds.length && rollupSeconds[next] <= seconds) {
            next++;
        }
        return next;
    }

    /** Adds a closed finer window into the rollup {@code rollupSeconds[rollup]} of its host (or the fleet) that holds it. */
    private void rollUp(OpenWindow finer, int rollup) {
        HistogramKey finerKey = finer.key();
        long start = rollupWindows[rollup].startMillis(finerKey.windowStartMillis());
        openWindow(new HistogramKey(finerKey.series(), finerKey.host(), rollupSeconds[rollup], start)).merge(finer);
    }

    /**
     * Idle means: nothing processed for {@code idleClose} of wall-clock time while the partition is
     * caught up. A consumer that is behind (a backlog after a restart, a slow fetch) is not idle,
     * or the backlog's samples would all arrive late.
     */
    private void closeIdleWindows(long wallClockMillis) {
        if (wallClockMillis - lastRecordWallMillis < idleCloseMillis || wallClockMillis <= streamTimeMillis
                || openByEndMillis.isEmpty() && openBaseByEndMillis.isEmpty() && openFirstRollupByEndMillis.isEmpty()) {
            return;
        }
        long lag = inputLag.records(context.taskId().partition());
        if (lag != 0) {
            if (wallClockMillis - lastLagLogWallMillis >= 60_000) {
                lastLagLogWallMillis = wallClockMillis;
                LOG.info("task {} idle for {} ms but its input lag is {} records ({}): its {} open windows stay open",
                        context.taskId(), wallClockMillis - lastRecordWallMillis, lag, lag < 0 ? "not known yet" : "behind",
                        openWindows());
            }
        } else {
            long emittedBefore = metrics.windowsEmitted();
            long streamTimeBefore = streamTimeMillis;
            advanceStreamTime(wallClockMillis);
            long emitted = metrics.windowsEmitted() - emittedBefore;
            if (emitted > 0) {
                LOG.info("task {} idle for {} ms and caught up: stream time moved from {} to the wall clock {}, "
                        + "closing windows ({} emitted by this aggregator so far)", context.taskId(),
                        wallClockMillis - lastRecordWallMillis, streamTimeBefore, wallClockMillis, metrics.windowsEmitted());
            }
        }
    }

    private void deadLetter(Record<String, byte[]> record, DeadLetterReason reason, String detail) {
        metrics.deadLetter(reason);
        if (reasonsLogged.add(reason)) {
            LOG.warn("dead-lettering a record ({}) from {}: {} (logged once per reason; counted in metrics)",
                    reason.header(), context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset())
                            .orElse("?"), detail);
        }
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        headers.add(REASON_HEADER, reason.header().getBytes(StandardCharsets.UTF_8));
        headers.add(DETAIL_HEADER, String.valueOf(detail).getBytes(StandardCharsets.UTF_8));
        context.forward(new Record<>(record.key(), record.value(), record.timestamp(), headers),
                LatencyTopology.DEAD_LETTER_SINK);
    }
}
