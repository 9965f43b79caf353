package io.tailprobe.query.samples;

import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.schemas.LatencySample;
import java.util.function.Consumer;

/**
 * Where raw samples are read back from: {@code latency.samples} ({@link KafkaSampleSource}). Reading is
 * split in two so that an HTTP answer can fail with a status before it starts streaming: {@link #open}
 * finds where to read, {@link Cursor#forEach} reads.
 */
public interface SampleSource {
    /**
     * Prepares a read of {@code query}.
     *
     * @throws StoreUnavailableException when the samples cannot be reached now
     */
    Cursor open(SampleQuery query);

    /** One read, positioned and ready. */
    interface Cursor extends AutoCloseable {
        /** Hands every matching sample to {@code sink}, in the order they were written per partition; returns how many. */
        long forEach(Consumer<LatencySample> sink);

        @Override
        void close();
    }
}
