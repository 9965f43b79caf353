package io.tailprobe.query.percentile;

import java.util.List;
import java.util.Map;

/**
 * The answer to a {@link PercentileQuery}: which windows were merged and what they hold. {@code protocol}
 * is the requested protocol or null when every protocol was merged; {@code protocols} lists those merged.
 * {@code fromMillis} is the start of the first window the range touches (the requested start floored to
 * the resolution), {@code toMillis} the requested end (exclusive).
 *
 * @param resolutionSeconds the finest resolution read (the requested one, if any)
 * @param count samples of every outcome
 * @param outcomes samples per outcome, e.g. {@code {"OK":1190,"TIMEOUT":10}}
 * @param responseTime from the scheduled start (corrected for coordinated omission)
 * @param serviceTime from the actual start
 * @param phases the requested phases by name, e.g. {@code {"connect":{…}}}; empty when none was requested
 */
public record PercentileResult(String target, String probe, String protocol, List<String> protocols, String host,
                               long fromMillis, long toMillis, int resolutionSeconds, int windows, long count,
                               Map<String, Long> outcomes, LatencySummary responseTime, LatencySummary serviceTime,
                               Map<String, LatencySummary> phases) {}
