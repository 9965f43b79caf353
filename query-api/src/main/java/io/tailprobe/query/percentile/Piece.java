package io.tailprobe.query.percentile;

import io.tailprobe.schemas.WindowedHistogram;
import java.util.List;

/** A part of one resolution's stretch of a range, in time order: a run's sum, or windows read one by one. */
sealed interface Piece permits RunSum, Piece.Windows {
    /** Windows read from the store, added one by one: a run not kept (asked for once so far), or the rest around the runs. */
    record Windows(List<WindowedHistogram> windows) implements Piece {}
}
