package io.tailprobe.aggregator;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds each sample to its tumbling window, once for its host and once fleet-wide ({@code *}),
 * and emits a window when stream time passes its end plus the grace period.
 *
 * <p>Open windows live in memory with their histograms decoded ({@link OpenWindow}), so a sample
 * costs a few increments, not a decode and an encode of every histogram it touches. Just before
 * each commit, the windows changed since the last one (and stream time) are written to the
 * changelogged stores ({@link CommitHookedStores}), so a commit holds exactly the state of the
 * offsets it commits; a restart or a rebalance reads them back.
 *
 * <p>Stream time is the largest scheduled start seen in this task's partitions (kept in a store,
 * so it survives restarts). Samples for a window that has already closed are dead-lettered as
 * late. When nothing has arrived for {@code idleClose} of wall-clock time and the partition is
 * caught up, stream time moves up to the wall clock, so the last windows close after probes stop.
 */
final class WindowProcessor implements Processor<String, byte[], String, byte[]> {
    static final String WINDOWS_STORE = "open-windows";
    static final String STREAM_TIME_STORE = "stream-time";
    static final String REASON_HEADER = "tailprobe.reason";
    static final String DETAIL_HEADER = "tailprobe.detail";
    private static final String STREAM_TIME_KEY = "stream-time";
    private static final Logger LOG = LoggerFactory.getLogger(WindowProcessor.class);

    private final long windowSizeMillis;
    private final int resolutionSeconds;
    private final long graceMillis;
    private final long idleCloseMillis;
    private final long maxLatencyNanos;
    /** Rollup resolutions, coarser than the base one. */
    private final int[] rollupSeconds;
    private final AggregatorMetrics metrics;
    private final CommitHookedStores commitHooks;
    private final InputLag inputLag;
    private final Set<DeadLetterReason> reasonsLogged = EnumSet.noneOf(DeadLetterReason.class);
    private final Serializer<WindowedHistogram> histogramSerializer = Topics.histogramSerde().serializer();

    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, WindowedHistogram> windows;
    private KeyValueStore<String, Long> streamTimeStore;
    /** Every open window by store key; read from the store on start. */
    private final Map<String, OpenWindow> open = new HashMap<>();
    /** The last base window each series and host (or fleet) added to: most samples land there. */
    private final Map<String, OpenWindow> latestBySeriesHost = new HashMap<>();
    /** Open windows by end time. */
    private final TreeMap<Long, List<OpenWindow>> openByEndMillis = new TreeMap<>();
    private final List<OpenWindow> dirty = new ArrayList<>();
    private long streamTimeMillis = Long.MIN_VALUE;
    private long storedStreamTimeMillis = Long.MIN_VALUE;
    private long lastRecordWallMillis;
    private long lastLagLogWallMillis = Long.MIN_VALUE / 2;

    WindowProcessor(AggregatorConfig config, AggregatorMetrics metrics, CommitHookedStores commitHooks,
                    InputLag inputLag) {
        this.windowSizeMillis = config.window().size().toMillis();
        this.resolutionSeconds = config.windowSizeSeconds();
        this.graceMillis = config.window().grace().toMillis();
        this.idleCloseMillis = config.window().idleClose().toMillis();
        this.maxLatencyNanos = config.maxLatency().toNanos();
        this.rollupSeconds = config.window().rollups().stream().mapToInt(d -> (int) d.toSeconds()).toArray();
        this.metrics = metrics;
        this.commitHooks = commitHooks;
        this.inputLag = inputLag;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.windows = context.getStateStore(WINDOWS_STORE);
        this.streamTimeStore = context.getStateStore(STREAM_TIME_STORE);
        Long stored = streamTimeStore.get(STREAM_TIME_KEY);
        streamTimeMillis = stored == null ? Long.MIN_VALUE : stored;
        storedStreamTimeMillis = streamTimeMillis;
        try (KeyValueIterator<String, WindowedHistogram> all = windows.all()) {
            while (all.hasNext()) {
                track(OpenWindow.of(all.next().value));
            }
        }
        commitHooks.register(context.taskId(), this::writeChanges);
        lastRecordWallMillis = context.currentSystemTimeMs();
        context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, this::closeIdleWindows);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        lastRecordWallMillis = context.currentSystemTimeMs();
        LatencySample sample;
        try {
            sample = Topics.sampleSerde().decode(record.value());
        } catch (RuntimeException e) {
            deadLetter(record, DeadLetterReason.UNDECODABLE, e.getMessage());
            return;
        }
        String invalid = validate(sample);
        if (invalid != null) {
            deadLetter(record, DeadLetterReason.INVALID, invalid);
            return;
        }
        SeriesKey series = SeriesKey.of(sample);
        if (!series.encode().equals(record.key())) {
            deadLetter(record, DeadLetterReason.KEY_MISMATCH,
                    "record key \"" + record.key() + "\" is not the sample's series \"" + series.encode() + "\"");
            return;
        }
        long eventMillis = sample.getScheduledStartMicros() / 1000L;
        long windowStart = eventMillis - Math.floorMod(eventMillis, windowSizeMillis);
        long windowEnd = windowStart + windowSizeMillis;
        if (windowEnd + graceMillis <= streamTimeMillis) {
            deadLetter(record, DeadLetterReason.LATE, "window " + windowStart + ".." + windowEnd
                    + " closed; stream time " + streamTimeMillis + ", grace " + graceMillis + " ms");
            return;
        }
        metrics.sampleIn();
        baseWindow(series, record.key(), sample.getHost(), windowStart).add(sample);
        baseWindow(series, record.key(), HistogramKey.FLEET, windowStart).add(sample);
        if (eventMillis > streamTimeMillis) {
            advanceStreamTime(eventMillis);
        }
    }

    /** The open base window of {@code series} and {@code host} starting at {@code windowStart}, marked dirty. */
    private OpenWindow baseWindow(SeriesKey series, String seriesKey, String host, long windowStart) {
        String seriesHost = seriesKey + SeriesKey.SEPARATOR + host;
        OpenWindow window = latestBySeriesHost.get(seriesHost);
        if (window == null || window.key().windowStartMillis() != windowStart || !isOpen(window)) {
            window = openWindow(new HistogramKey(series, host, resolutionSeconds, windowStart));
            latestBySeriesHost.put(seriesHost, window);
        }
        markDirty(window);
        return window;
    }

    private boolean isOpen(OpenWindow window) {
        return open.get(window.storeKey()) == window;
    }

    private OpenWindow openWindow(HistogramKey key) {
        OpenWindow window = open.get(key.encode());
        if (window == null) {
            window = OpenWindow.empty(key);
            track(window);
        }
        return window;
    }

    private void markDirty(OpenWindow window) {
        if (!window.dirty) {
            window.dirty = true;
            dirty.add(window);
        }
    }

    /** Before each commit: the changed open windows and stream time into the changelogged stores. */
    private void writeChanges() {
        for (OpenWindow window : dirty) {
            if (window.dirty && isOpen(window)) {
                windows.put(window.storeKey(), window.toRecord());
                window.stored = true;
            }
            window.dirty = false;
        }
        dirty.clear();
        if (streamTimeMillis != storedStreamTimeMillis) {
            streamTimeStore.put(STREAM_TIME_KEY, streamTimeMillis);
            storedStreamTimeMillis = streamTimeMillis;
        }
    }

    private String validate(LatencySample s) {
        for (Map.Entry<String, String> field : Map.of("host", s.getHost(), "target", s.getTarget(),
                "probeType", s.getProbeType(), "protocol", s.getProtocol()).entrySet()) {
            String value = field.getValue();
            if (value == null || value.isEmpty() || value.indexOf(SeriesKey.SEPARATOR) >= 0) {
                return field.getKey() + " must be non-empty and free of '" + SeriesKey.SEPARATOR + "', got \"" + value + "\"";
            }
        }
        if (s.getScheduledStartMicros() <= 0) {
            return "scheduledStartMicros must be > 0, got " + s.getScheduledStartMicros();
        }
        if (s.getServiceTimeNanos() < 0 || s.getServiceTimeNanos() > maxLatencyNanos) {
            return "serviceTimeNanos must be in [0, " + maxLatencyNanos + "], got " + s.getServiceTimeNanos();
        }
        if (s.getResponseTimeNanos() < 0 || s.getResponseTimeNanos() > maxLatencyNanos) {
            return "responseTimeNanos must be in [0, " + maxLatencyNanos + "], got " + s.getResponseTimeNanos();
        }
        return null;
    }

    private void track(OpenWindow window) {
        open.put(window.storeKey(), window);
        openByEndMillis.computeIfAbsent(window.windowEndMillis(), end -> new ArrayList<>()).add(window);
    }

    private void advanceStreamTime(long millis) {
        streamTimeMillis = millis;
        emitClosedWindows();
    }

    private void emitClosedWindows() {
        while (!openByEndMillis.isEmpty() && openByEndMillis.firstKey() + graceMillis <= streamTimeMillis) {
            List<OpenWindow> closing = openByEndMillis.pollFirstEntry().getValue();
            // Base windows first: each one is added into its rollups, which may close in this same pass.
            closing.sort(Comparator.comparingInt((OpenWindow w) -> w.key().resolutionSeconds())
                    .thenComparing(OpenWindow::storeKey));
            for (OpenWindow window : closing) {
                String storeKey = window.storeKey();
                open.remove(storeKey);
                latestBySeriesHost.remove(window.key().series().encode() + SeriesKey.SEPARATOR + window.key().host(),
                        window);
                if (window.stored) {
                    windows.delete(storeKey);
                }
                if (window.key().resolutionSeconds() == resolutionSeconds) {
                    rollUp(window);
                }
                WindowedHistogram record = window.toRecord();
                context.forward(new Record<>(storeKey, histogramSerializer.serialize(Topics.HISTOGRAMS, record),
                        window.key().windowStartMillis()), LatencyTopology.HISTOGRAMS_SINK);
                metrics.windowEmitted();
            }
        }
    }

    private void rollUp(OpenWindow base) {
        HistogramKey baseKey = base.key();
        for (int seconds : rollupSeconds) {
            long sizeMillis = seconds * 1000L;
            long start = baseKey.windowStartMillis() - Math.floorMod(baseKey.windowStartMillis(), sizeMillis);
            OpenWindow rollup = openWindow(new HistogramKey(baseKey.series(), baseKey.host(), seconds, start));
            rollup.merge(base);
            markDirty(rollup);
        }
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
