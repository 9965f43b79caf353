package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencySample;
import java.time.Duration;

/**
 * Tumbling windows of one size aligned to the epoch, as the aggregator assigns samples to them: a
 * sample lands in the window holding its scheduled start ({@link SampleRules#eventMillis}), and a base
 * window in the rollup holding its start. Shared with {@code tailprobe replay}.
 *
 * <p>Example: 10 s windows put a sample scheduled at 14:02:07.250 in the window 14:02:00 to 14:02:10;
 * 1 min windows put that window in the one from 14:02 to 14:03.
 */
public final class SampleWindows {
    private final long sizeMillis;

    /** @param size the window length, at least 1 ms */
    public SampleWindows(Duration size) {
        this.sizeMillis = size.toMillis();
        if (sizeMillis <= 0) {
            throw new IllegalArgumentException("window size must be >= 1 ms, got " + size);
        }
    }

    public static SampleWindows ofSeconds(int seconds) {
        return new SampleWindows(Duration.ofSeconds(seconds));
    }

    public long sizeMillis() {
        return sizeMillis;
    }

    /** The start of the window holding {@code millis}, epoch milliseconds (times before 1970 round down too). */
    public long startMillis(long millis) {
        return millis - Math.floorMod(millis, sizeMillis);
    }

    /** The start of the window {@code sample} belongs to. */
    public long startMillis(LatencySample sample) {
        return startMillis(SampleRules.eventMillis(sample));
    }

    public long endMillis(long startMillis) {
        return startMillis + sizeMillis;
    }
}
