package io.tailprobe.agent.schedule;

/** Virtual time for one test thread: sleeping jumps the clock, probes advance it by their duration. */
final class VirtualTicker implements Ticker {
    /** 2023-11-14T22:13:20Z, the wall-clock instant of {@link #ORIGIN_NANOS}. */
    static final long ORIGIN_EPOCH_MICROS = 1_700_000_000_000_000L;
    /** An arbitrary non-zero origin so a test notices readings mistaken for durations. */
    static final long ORIGIN_NANOS = 5_000_000_000L;

    private long now = ORIGIN_NANOS;

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public long epochMicros(long nanoTime) {
        return ORIGIN_EPOCH_MICROS + (nanoTime - ORIGIN_NANOS) / 1_000;
    }

    @Override
    public void sleepUntil(long deadlineNanos) {
        now = Math.max(now, deadlineNanos);
    }

    void advanceMillis(long millis) {
        now += millis * 1_000_000L;
    }
}
