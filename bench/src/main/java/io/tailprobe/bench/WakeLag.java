package io.tailprobe.bench;

import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The control beside each step of bench/probe-rate.sh: how late this machine wakes a thread that
 * does nothing else. One platform thread keeps a 1 ms schedule the way a pacer does (slot {@code n}
 * due at {@code t0 + n ms}, lag measured from the due time, no catching up skipped) and reports the
 * share of slots it started within 1 ms of their due time, and the p99, p99.9 and largest lag in µs,
 * over the MEASURE_S seconds after the first SKIP_S.
 *
 * <p>No virtual threads, no JDK timer thread, no sockets, a few µs of work a slot: what lag it sees is
 * the kernel's and the hypervisor's. Where the agent's lag tail matches this one, the agent adds
 * nothing to it; on a 2-vCPU Firecracker VM a vCPU that is taken away for 1-20 ms a few times a
 * second makes even this loop miss 1 ms now and then (docs/PERFORMANCE.md).
 *
 * <p>Usage: {@code WakeLag SKIP_S MEASURE_S}; prints one line
 * {@code WAKELAG within1ms=99.12 p99=… p999=… max=… slots=…}, then idles until its standard input
 * closes, so the caller can read its CPU time at the end of the window.
 */
public final class WakeLag {
    private static final long SLOT_NANOS = 1_000_000L;

    private WakeLag() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: WakeLag SKIP_S MEASURE_S");
            System.exit(2);
        }
        long skipSlots = Long.parseLong(args[0]) * 1_000;
        long measureSlots = Long.parseLong(args[1]) * 1_000;
        Histogram lagMicros = new Histogram(3_600_000_000L, 3);
        long start = System.nanoTime();
        for (long slot = 0; slot < skipSlots + measureSlots; slot++) {
            long due = start + slot * SLOT_NANOS;
            long remaining;
            while ((remaining = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(remaining);
            }
            long lagNanos = System.nanoTime() - due;
            if (slot >= skipSlots) {
                lagMicros.recordValue(lagNanos / 1_000);
            }
        }
        double within = 100.0 * lagMicros.getCountBetweenValues(0, 1_000) / lagMicros.getTotalCount();
        System.out.println(String.format(Locale.ROOT, "WAKELAG within1ms=%.2f p99=%d p999=%d max=%d slots=%d", within,
                lagMicros.getValueAtPercentile(99), lagMicros.getValueAtPercentile(99.9), lagMicros.getMaxValue(),
                lagMicros.getTotalCount()));
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the caller closes our standard input
        }
    }
}
