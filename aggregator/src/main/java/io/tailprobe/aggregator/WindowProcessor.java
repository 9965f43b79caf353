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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
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
 * <p>Stream time is the largest scheduled start seen in this task's partitions (kept in a store,
 * so it survives restarts). Samples for a window that has already closed are dead-lettered as
 * late. When nothing has arrived for {@code idleClose} of wall-clock time, stream time moves up
 * to the wall clock, so the last windows close after probes stop.
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
    private final Set<DeadLetterReason> reasonsLogged = EnumSet.noneOf(DeadLetterReason.class);
    private final Serializer<WindowedHistogram> histogramSerializer = Topics.histogramSerde().serializer();

    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, WindowedHistogram> windows;
    private KeyValueStore<String, Long> streamTimeStore;
    /** Open windows by end time; rebuilt from the store on start. */
    private final TreeMap<Long, Set<String>> openByEndMillis = new TreeMap<>();
    private long streamTimeMillis = Long.MIN_VALUE;
    private long lastRecordWallMillis;

    WindowProcessor(AggregatorConfig config, AggregatorMetrics metrics) {
        this.windowSizeMillis = config.window().size().toMillis();
        this.resolutionSeconds = config.windowSizeSeconds();
        this.graceMillis = config.window().grace().toMillis();
        this.idleCloseMillis = config.window().idleClose().toMillis();
        this.maxLatencyNanos = config.maxLatency().toNanos();
        this.rollupSeconds = config.window().rollups().stream().mapToInt(d -> (int) d.toSeconds()).toArray();
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.windows = context.getStateStore(WINDOWS_STORE);
        this.streamTimeStore = context.getStateStore(STREAM_TIME_STORE);
        Long stored = streamTimeStore.get(STREAM_TIME_KEY);
        streamTimeMillis = stored == null ? Long.MIN_VALUE : stored;
        try (KeyValueIterator<String, WindowedHistogram> all = windows.all()) {
            while (all.hasNext()) {
                KeyValue<String, WindowedHistogram> open = all.next();
                track(open.key, open.value.getWindowEndMillis());
            }
        }
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
        addTo(new HistogramKey(series, sample.getHost(), resolutionSeconds, windowStart), sample);
        addTo(new HistogramKey(series, HistogramKey.FLEET, resolutionSeconds, windowStart), sample);
        if (eventMillis > streamTimeMillis) {
            advanceStreamTime(eventMillis);
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

    private void addTo(HistogramKey key, LatencySample sample) {
        String storeKey = key.encode();
        WindowedHistogram window = windows.get(storeKey);
        if (window == null) {
            window = WindowedHistograms.empty(key, resolutionSeconds);
            track(storeKey, window.getWindowEndMillis());
        }
        WindowedHistograms.add(window, sample);
        windows.put(storeKey, window);
    }

    private void track(String storeKey, long windowEndMillis) {
        openByEndMillis.computeIfAbsent(windowEndMillis, end -> new HashSet<>()).add(storeKey);
    }

    private void advanceStreamTime(long millis) {
        streamTimeMillis = millis;
        streamTimeStore.put(STREAM_TIME_KEY, millis);
        emitClosedWindows();
    }

    private void emitClosedWindows() {
        while (!openByEndMillis.isEmpty() && openByEndMillis.firstKey() + graceMillis <= streamTimeMillis) {
            Map.Entry<Long, Set<String>> closing = openByEndMillis.pollFirstEntry();
            // Base windows first: each one is added into its rollups, which may close in this same pass.
            List<HistogramKey> keys = new ArrayList<>(closing.getValue().stream().map(HistogramKey::parse).toList());
            keys.sort(Comparator.comparingInt(HistogramKey::resolutionSeconds).thenComparing(HistogramKey::encode));
            for (HistogramKey key : keys) {
                String storeKey = key.encode();
                WindowedHistogram window = windows.delete(storeKey);
                if (window == null) {
                    continue;
                }
                if (key.resolutionSeconds() == resolutionSeconds) {
                    rollUp(key, window);
                }
                context.forward(new Record<>(storeKey, histogramSerializer.serialize(Topics.HISTOGRAMS, window),
                        window.getWindowStartMillis()), LatencyTopology.HISTOGRAMS_SINK);
                metrics.windowEmitted();
            }
        }
    }

    private void rollUp(HistogramKey base, WindowedHistogram window) {
        for (int seconds : rollupSeconds) {
            long sizeMillis = seconds * 1000L;
            long start = base.windowStartMillis() - Math.floorMod(base.windowStartMillis(), sizeMillis);
            HistogramKey key = new HistogramKey(base.series(), base.host(), seconds, start);
            String storeKey = key.encode();
            WindowedHistogram rollup = windows.get(storeKey);
            if (rollup == null) {
                rollup = WindowedHistograms.empty(key, seconds);
                track(storeKey, rollup.getWindowEndMillis());
            }
            WindowedHistograms.merge(rollup, window);
            windows.put(storeKey, rollup);
        }
    }

    private void closeIdleWindows(long wallClockMillis) {
        if (wallClockMillis - lastRecordWallMillis >= idleCloseMillis && wallClockMillis > streamTimeMillis
                && !openByEndMillis.isEmpty()) {
            advanceStreamTime(wallClockMillis);
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
