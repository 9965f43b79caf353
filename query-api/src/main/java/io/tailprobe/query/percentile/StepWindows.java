package io.tailprobe.query.percentile;

import io.tailprobe.schemas.WindowedHistogram;
import java.util.List;

/**
 * The windows of a range assigned to steps: step {@code i} spans
 * {@code [fromMillis + i * stepMillis, min(fromMillis + (i + 1) * stepMillis, toMillis))} and holds the
 * windows that start in it, e.g. a 14:00–15:00 range in 1 min steps has 60 steps of six 10 s windows
 * (or one closed 1 min rollup) each.
 *
 * @param fromMillis the start of the first step (the requested start floored to a step)
 * @param toMillis the requested end, exclusive
 */
public record StepWindows(long fromMillis, long toMillis, long stepMillis, List<List<WindowedHistogram>> steps) {
    public StepWindows {
        steps = List.copyOf(steps);
    }

    public int size() {
        return steps.size();
    }

    public List<WindowedHistogram> step(int index) {
        return steps.get(index);
    }

    public long startMillis(int index) {
        return fromMillis + index * stepMillis;
    }

    /** The end of step {@code index}: the next step's start, or {@code toMillis} for the last one. */
    public long endMillis(int index) {
        return Math.min(startMillis(index) + stepMillis, toMillis);
    }

    /** Every window of every step. */
    public List<WindowedHistogram> all() {
        return steps.stream().flatMap(List::stream).toList();
    }
}
