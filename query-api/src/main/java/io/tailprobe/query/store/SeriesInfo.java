package io.tailprobe.query.store;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import java.util.Comparator;
import java.util.Map;

/**
 * One stored series at one host and resolution, with the start of its first and last stored window
 * and the labels of its latest window, e.g. {@code demo-tcp|tcp|tcp} at host {@code *}, 10 s, windows
 * from 14:00:00 to 14:59:50 UTC, labelled {@code {region=eu-west-1}}.
 *
 * @param labels the labels of the window starting at {@code lastWindowStartMillis}; empty when its
 *     writer set none (windows written before labels existed have none)
 */
public record SeriesInfo(String target, String probeType, String protocol, String host, int resolutionSeconds,
                         long firstWindowStartMillis, long lastWindowStartMillis, Map<String, String> labels) {
    public static final Comparator<SeriesInfo> NATURAL_ORDER = Comparator.comparing(SeriesInfo::target)
            .thenComparing(SeriesInfo::probeType)
            .thenComparing(SeriesInfo::protocol)
            .thenComparing(SeriesInfo::host)
            .thenComparingInt(SeriesInfo::resolutionSeconds);

    public SeriesInfo {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public SeriesKey series() {
        return new SeriesKey(target, probeType, protocol);
    }

    public boolean fleetWide() {
        return HistogramKey.FLEET.equals(host);
    }

    /**
     * A copy whose first/last window starts also cover {@code windowStartMillis}; {@code windowLabels}
     * replace the labels when that window is the latest.
     */
    public SeriesInfo including(long windowStartMillis, Map<String, String> windowLabels) {
        return new SeriesInfo(target, probeType, protocol, host, resolutionSeconds,
                Math.min(firstWindowStartMillis, windowStartMillis), Math.max(lastWindowStartMillis, windowStartMillis),
                windowStartMillis >= lastWindowStartMillis ? windowLabels : labels);
    }
}
