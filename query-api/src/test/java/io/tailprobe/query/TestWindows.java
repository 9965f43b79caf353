package io.tailprobe.query;

import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/** Builds windows the way the aggregator does, from raw latencies, so tests know the exact answers. */
public final class TestWindows {
    public static final int RESOLUTION_SECONDS = 10;
    public static final long RESOLUTION_MILLIS = RESOLUTION_SECONDS * 1_000L;

    private TestWindows() {}

    /** Service time of a sample in these tests: three quarters of its response time. */
    public static long serviceNanos(long responseNanos) {
        return responseNanos * 3 / 4;
    }

    /** A window of {@code responseNanos.length} OK samples plus {@code timeouts} TIMEOUT samples. */
    public static WindowedHistogram window(SeriesKey series, String host, long startMillis, long[] responseNanos,
                                           long timeouts) {
        Histogram response = LatencyHistograms.newHistogram();
        Histogram service = LatencyHistograms.newHistogram();
        for (long nanos : responseNanos) {
            LatencyHistograms.record(response, nanos);
            LatencyHistograms.record(service, serviceNanos(nanos));
        }
        Map<String, Long> outcomes = new TreeMap<>();
        if (responseNanos.length > 0) {
            outcomes.put("OK", (long) responseNanos.length);
        }
        if (timeouts > 0) {
            outcomes.put("TIMEOUT", timeouts);
        }
        boolean any = responseNanos.length > 0;
        long min = Arrays.stream(responseNanos).min().orElse(0);
        long max = Arrays.stream(responseNanos).max().orElse(0);
        return WindowedHistogram.newBuilder()
                .setTarget(series.target())
                .setProbeType(series.probeType())
                .setProtocol(series.protocol())
                .setHost(host)
                .setResolutionSeconds(RESOLUTION_SECONDS)
                .setWindowStartMillis(startMillis)
                .setWindowEndMillis(startMillis + RESOLUTION_MILLIS)
                .setSampleCount(responseNanos.length + timeouts)
                .setOutcomeCounts(outcomes)
                .setMinResponseTimeNanos(any ? min : null)
                .setMaxResponseTimeNanos(any ? max : null)
                .setMinServiceTimeNanos(any ? serviceNanos(min) : null)
                .setMaxServiceTimeNanos(any ? serviceNanos(max) : null)
                .setResponseTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(response)))
                .setServiceTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(service)))
                .setPhaseHistograms(Map.of())
                .build();
    }

    /** The nearest-rank quantile of {@code values} (HdrHistogram's definition): the ceil(q·n)-th smallest. */
    public static long exactQuantile(List<Long> values, double quantile) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        int rank = (int) Math.ceil(quantile * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    public static double millis(long nanos) {
        return nanos / 1_000_000.0;
    }
}
