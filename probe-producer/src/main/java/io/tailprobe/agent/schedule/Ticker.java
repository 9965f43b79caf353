package io.tailprobe.agent.schedule;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The pacer's time source, injectable so tests run schedules in virtual time. {@link #nanoTime()}
 * measures durations; {@link #epochMicros(long)} turns a reading into wall-clock time through one
 * anchor taken at start-up, so a sample's scheduled and actual starts differ by exactly the
 * measured lag even if the wall clock steps (NTP) while the agent runs.
 */
public interface Ticker {
    /** A monotonic reading in nanoseconds, comparable only with other readings of this ticker. */
    long nanoTime();

    /** The wall-clock instant of a {@link #nanoTime()} reading, in microseconds since the epoch. */
    long epochMicros(long nanoTime);

    /** Returns once {@link #nanoTime()} has reached {@code deadlineNanos}; at once if it already has. */
    void sleepUntil(long deadlineNanos) throws InterruptedException;

    /** The system clocks, anchored now. */
    static Ticker system() {
        return new SystemTicker();
    }

    /** {@link System#nanoTime()} anchored once to {@link Instant#now()}. */
    final class SystemTicker implements Ticker {
        private final long anchorNanos;
        private final long anchorMicros;

        SystemTicker() {
            Instant now = Instant.now();
            this.anchorNanos = System.nanoTime();
            this.anchorMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long epochMicros(long nanoTime) {
            return anchorMicros + Math.floorDiv(nanoTime - anchorNanos, 1_000L);
        }

        @Override
        public void sleepUntil(long deadlineNanos) throws InterruptedException {
            long remaining;
            while ((remaining = deadlineNanos - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.sleep(remaining);
            }
        }
    }
}
