package io.tailprobe.agent.sink;

import io.tailprobe.schemas.LatencySample;

/**
 * Where samples go: Kafka in production ({@link KafkaSampleSink}), a list in tests. Called from one
 * thread (the agent's {@link SinkQueue} drainer), never from a pacer, so a slow sink cannot delay a
 * probe. Example test sink: {@code (sample, done) -> { samples.add(sample); done.onCompletion(null); }}.
 */
@FunctionalInterface
public interface SampleSink extends AutoCloseable {
    /** Hands over one sample; calls {@code done} exactly once, now or later, from any thread. */
    void send(LatencySample sample, SendCallback done);

    /** Delivers what was handed over and releases resources; the default does nothing. */
    @Override
    default void close() {}

    /** The outcome of one {@link #send}. */
    @FunctionalInterface
    interface SendCallback {
        /** @param failure null when the sample was delivered */
        void onCompletion(Exception failure);
    }
}
