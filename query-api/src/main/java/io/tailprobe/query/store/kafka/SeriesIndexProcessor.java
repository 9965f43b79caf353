package io.tailprobe.query.store.kafka;

import io.tailprobe.query.store.StoreVersions;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.WindowedHistogram;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the series index: for every window update of any resolution's histograms table, widens the
 * {@link SeriesSpan} stored under {@link HistogramKey#prefix} of its series, host and resolution, and
 * keeps the labels of its latest window.
 * Listing series then reads one small entry per series instead of scanning every window (a day of
 * one series at 10 s is 8 640 windows; the index holds one entry).
 *
 * <p>Deletions (tombstones) are ignored: the span may then start before the oldest stored window,
 * which only makes {@code firstWindowStartMillis} a lower bound.
 *
 * <p>Every update, tombstones included, also changes the {@link StoreVersions} version of its series,
 * host, resolution and day, after the table's store holds it (the table writes before it forwards), so a
 * cache of answers computed from those windows stops using them.
 */
final class SeriesIndexProcessor implements Processor<String, WindowedHistogram, Void, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(SeriesIndexProcessor.class);

    private final StoreVersions versions;
    private KeyValueStore<String, SeriesSpan> index;

    SeriesIndexProcessor(StoreVersions versions) {
        this.versions = versions;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        index = context.getStateStore(KafkaHistogramStore.SERIES_STORE);
    }

    @Override
    public void process(Record<String, WindowedHistogram> record) {
        WindowedHistogram window = record.value();
        if (window == null) {
            deleted(record.key());
            return;
        }
        HistogramKey key;
        try {
            key = HistogramKey.of(window);
        } catch (IllegalArgumentException e) {
            LOG.warn("not indexing window with key {}: {}", record.key(), e.getMessage());
            versions.changedAll(); // some series changed; which one the window does not say
            return;
        }
        versions.changed(key.series(), key.host(), key.resolutionSeconds(), key.windowStartMillis());
        String indexKey = HistogramKey.prefix(key.series(), key.host(), key.resolutionSeconds());
        SeriesSpan old = index.get(indexKey);
        SeriesSpan updated = old == null
                ? new SeriesSpan(key.windowStartMillis(), key.windowStartMillis(), window.getLabels())
                : old.including(key.windowStartMillis(), window.getLabels());
        if (!updated.equals(old)) {
            index.put(indexKey, updated);
        }
        if (old == null) {
            versions.seriesAdded();
        }
    }

    private void deleted(String encodedKey) {
        try {
            HistogramKey key = HistogramKey.parse(encodedKey);
            versions.changed(key.series(), key.host(), key.resolutionSeconds(), key.windowStartMillis());
        } catch (IllegalArgumentException | NullPointerException e) {
            versions.changedAll();
        }
    }
}
