package io.tailprobe.query.percentile;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The merged histograms of one latency over a range, one interval per step (one for the whole range
 * when no step was asked for), for tools that read HdrHistograms themselves. Intervals are merged when
 * {@link #forEachInterval} walks them, one at a time, so an export of 1 000 steps holds one histogram,
 * not 1 000.
 */
public final class HistogramExport {
    private final SeriesMatch match;
    private final Latency latency;
    private final StepWindows windows;

    HistogramExport(SeriesMatch match, Latency latency, StepWindows windows) {
        this.match = match;
        this.latency = latency;
        this.windows = windows;
    }

    /** Receives one interval's histogram (nanoseconds), live only until the call returns. */
    @FunctionalInterface
    public interface IntervalSink {
        void accept(long startMillis, long endMillis, Histogram histogram);
    }

    /** Merges each interval in turn, oldest first, and hands it to {@code sink}; empty intervals too. */
    public void forEachInterval(IntervalSink sink) {
        MergedLatency merged = new MergedLatency(latency);
        for (int i = 0; i < windows.size(); i++) {
            sink.accept(windows.startMillis(i), windows.endMillis(i), merged.reset().add(windows.step(i)).histogram());
        }
    }

    public SeriesRange range() {
        return match.range();
    }

    public List<String> protocols() {
        return match.protocols();
    }

    public Latency latency() {
        return latency;
    }

    public int resolutionSeconds() {
        return match.resolutionSeconds();
    }

    /** The start of the first interval: the requested start floored to the step or, without one, to the resolution. */
    public long fromMillis() {
        return windows.fromMillis();
    }

    /** The requested end, exclusive: the end of the last interval. */
    public long toMillis() {
        return windows.toMillis();
    }

    public int intervals() {
        return windows.size();
    }
}
