package io.tailprobe.aggregator;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters shared by every stream thread of one aggregator. */
public final class AggregatorMetrics {
    private final LongAdder samplesIn = new LongAdder();
    private final LongAdder windowsEmitted = new LongAdder();
    private final Map<DeadLetterReason, LongAdder> deadLetters = new EnumMap<>(DeadLetterReason.class);

    public AggregatorMetrics() {
        for (DeadLetterReason reason : DeadLetterReason.values()) {
            deadLetters.put(reason, new LongAdder());
        }
    }

    void sampleIn() {
        samplesIn.increment();
    }

    void windowEmitted() {
        windowsEmitted.increment();
    }

    void deadLetter(DeadLetterReason reason) {
        deadLetters.get(reason).increment();
    }

    public long samplesIn() {
        return samplesIn.sum();
    }

    public long windowsEmitted() {
        return windowsEmitted.sum();
    }

    public long deadLetters(DeadLetterReason reason) {
        return deadLetters.get(reason).sum();
    }
}
