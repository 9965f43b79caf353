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
 * Adds each sample to its host's tumbling window and emits the window when stream time passes its
 * end plus the grace period. A closing host window is added into its series' fleet-wide window
 * ({@code *}), emitted right after the hosts' windows of the same end, and into the host's first
 * rollup; a closing fleet-wide window into the fleet's first rollup; a closing rollup into the next
 * coarser one (each rollup is a multiple of the one before: a 10 min window is the sum of its ten
 * 1 min windows, so a base window is added once, not once per rollup). Windows of the same end
 * close finest first, hosts' before the fleet's, so a window closes only after every window added
 * into it: a sample is recorded once, and every fleet-wide or coarser window is an exact sum of
 * host windows.
 *
 * <p>Open windows live in memory only, with their histograms as {@link BucketCounts}, so a sample
 * costs a few increments and nothing is written per sample. What a commit must hold is small: a
 * checkpoint of stream time, the offset after the last processed sample and the offset of the
 * first sample of any still-open base window, written just before each commit
 * ({@link CommitHookedStores}) in the commit's transaction. When a task starts with a checkpoint
 * (a restart, a crash, a rebalance), it rebuilds exactly the windows that were open at that commit
 * from Kafka ({@link TaskHistory}): the samples from the replay offset up to the checkpointed
 * offset, each added to its window if that window was still open at the checkpoint's stream time
 * (a sample of a window already closed was emitted or dead-lettered then), and the rollups from
 * the windows already emitted for their periods (a rollup's closed finer windows: a 10 min window
 * holds the base windows before the first open 1 min window). Under exactly-once the windows emitted, the
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
    /** Every open window by key (not by its store key: looking one up then needs no string built). */
    private final Map<HistogramKey, OpenWindow> open = new HashMap<>();
    /** By record key: the base window each host of the series last added to. */
    private final Map<String, SeriesWindows> bySeries = new HashMap<>();
    /** The same by series, for a closing window. */
    private final Map<SeriesKey, SeriesWindows> bySeriesKey = new HashMap<>();
    /**
     * Host base windows in the order they opened; closed ones leave from the front. Windows open at
     * their first sample and samples come in offset order, so the first open one holds the smallest
     * input offset of any open window (fleet-wide windows and rollups hold none): the offset a restart
     * replays from.
     */
    private final ArrayDeque<OpenWindow> hostWindowsByOpening = new ArrayDeque<>();
    /** Open windows by end time. */
    private final TreeMap<Long, List<OpenWindow>> openByEndMillis = new TreeMap<>();
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
        bySeries.clear();
        bySeriesKey.clear();
        hostWindowsByOpening.clear();
        openByEndMillis.clear();
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
                        + "base windows re-read into their open rollups", context.taskId(), open.size(),
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
        SeriesWindows series = key == null ? null : bySeries.get(key);
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
                series = new SeriesWindows(sampleSeries, seriesKey);
                bySeries.put(seriesKey, series);
                bySeriesKey.put(sampleSeries, series);
            }
        }
        long eventMillis = SampleRules.eventMillis(sample.scheduledStartMicros);
        long windowStart = baseWindows.startMillis(eventMillis);
        long windowEnd = baseWindows.endMillis(windowStart);
        if (windowEnd + graceMillis <= streamTimeMillis) {
            return new Rejection(DeadLetterReason.LATE, "window " + windowStart + ".." + windowEnd
                    + " closed; stream time " + streamTimeMillis + ", grace " + graceMillis + " ms");
        }
        OpenWindow host = series.latestByHost.get(sample.host);
        if (host == null || host.key().windowStartMillis() != windowStart) {
            host = openWindow(new HistogramKey(series.key, sample.host, resolutionSeconds, windowStart), host);
            series.latestByHost.put(sample.host, host);
        }
        host.add(sample, offset);
        addedEventMillis = eventMillis;
        return null;
    }

    /**
     * One series' base windows that samples most likely land in: the one each host last added to.
     * A closing window leaves here, so every window here is open.
     */
    private static final class SeriesWindows {
        final SeriesKey key;
        final String recordKey;
        final Map<String, OpenWindow> latestByHost = new HashMap<>();

        SeriesWindows(SeriesKey key, String recordKey) {
            this.key = key;
            this.recordKey = recordKey;
        }

        boolean isOf(SampleFields sample) {
            return key.target().equals(sample.target) && key.probeType().equals(sample.probeType)
                    && key.protocol().equals(sample.protocol);
        }

        void closed(OpenWindow window) {
            latestByHost.remove(window.key().host(), window);
        }

        boolean isEmpty() {
            return latestByHost.isEmpty();
        }
    }

    private OpenWindow openWindow(HistogramKey key) {
        return openWindow(key, null);
    }

    /** The open window of {@code key}, opened when there is none, sized like {@code previous} of the same host if given. */
    private OpenWindow openWindow(HistogramKey key, OpenWindow previous) {
        OpenWindow window = open.get(key);
        if (window == null) {
            window = previous == null ? OpenWindow.empty(key) : OpenWindow.following(previous, key);
            track(window);
        }
        return window;
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
        dropClosedHostWindows();
        OpenWindow firstOpened = hostWindowsByOpening.peekFirst();
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

    /** Drops the closed windows from the front of {@link #hostWindowsByOpening}. */
    private void dropClosedHostWindows() {
        while (!hostWindowsByOpening.isEmpty() && hostWindowsByOpening.peekFirst().isClosed()) {
            hostWindowsByOpening.pollFirst();
        }
    }

    private void track(OpenWindow window) {
        open.put(window.key(), window);
        if (isHostBase(window.key())) {
            hostWindowsByOpening.add(window);
        }
        openByEndMillis.computeIfAbsent(window.windowEndMillis(), end -> new ArrayList<>()).add(window);
    }

    private void advanceStreamTime(long millis) {
        streamTimeMillis = millis;
        emitClosedWindows();
    }

    private void emitClosedWindows() {
        while (!openByEndMillis.isEmpty() && openByEndMillis.firstKey() + graceMillis <= streamTimeMillis) {
            long endMillis = openByEndMillis.firstKey();
            addClosing(openByEndMillis.remove(endMillis));
            for (List<OpenWindow> windows : closingByClass) {
                for (OpenWindow window : windows) {
                    close(window);
                    // Closing a window can open another of the same end (a host window's fleet-wide window,
                    // a rollup's next rollup), always of a later class: take those in as they appear.
                    List<OpenWindow> opened = openByEndMillis.remove(endMillis);
                    if (opened != null) {
                        addClosing(opened);
                    }
                }
                windows.clear();
            }
        }
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

    /**
     * Emits a closed window, first adding it into the next coarser window of its host (or the fleet): a
     * host's base window into its fleet-wide window and its first rollup, any other into the next rollup.
     */
    private void close(OpenWindow window) {
        HistogramKey key = window.key();
        open.remove(window.key());
        window.markClosed();
        if (isHostBase(key)) {
            forgetLatest(window);
            dropClosedHostWindows();
            openWindow(new HistogramKey(key.series(), HistogramKey.FLEET, resolutionSeconds, key.windowStartMillis()))
                    .merge(window);
        }
        int next = nextRollup(key.resolutionSeconds());
        if (next < rollupSeconds.length) {
            rollUp(window, next);
        }
        int resolution = resolutionIndex(key.resolutionSeconds());
        byte[] record = histogramSerializer.serialize(histogramTopics[resolution], window.toRecord());
        context.forward(new Record<>(window.storeKey(), record, key.windowStartMillis()), histogramSinks[resolution]);
        metrics.windowEmitted();
    }

    private void forgetLatest(OpenWindow hostWindow) {
        SeriesWindows series = bySeriesKey.get(hostWindow.key().series());
        if (series != null) {
            series.closed(hostWindow);
            if (series.isEmpty()) {
                bySeriesKey.remove(series.key);
                bySeries.remove(series.recordKey);
            }
        }
    }

    private boolean isHostBase(HistogramKey key) {
        return key.resolutionSeconds() == resolutionSeconds && !key.host().equals(HistogramKey.FLEET);
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
                || openByEndMillis.isEmpty()) {
            return;
        }
        long lag = inputLag.records(context.taskId().partition());
        if (lag != 0) {
            if (wallClockMillis - lastLagLogWallMillis >= 60_000) {
                lastLagLogWallMillis = wallClockMillis;
                LOG.info("task {} idle for {} ms but its input lag is {} records ({}): its {} open windows stay open",
                        context.taskId(), wallClockMillis - lastRecordWallMillis, lag, lag < 0 ? "not known yet" : "behind",
                        open.size());
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
