package io.tailprobe.query.http;

import io.tailprobe.query.percentile.HistogramExport;
import io.tailprobe.query.percentile.SeriesRange;
import io.tailprobe.schemas.LatencyHistograms;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.HdrHistogram.HistogramLogWriter;

/**
 * The two forms {@code GET /api/v1/histogram} exports merged histograms in, both readable by
 * HdrHistogram itself: an interval log ({@code format=hlog}, written by HdrHistogram's
 * {@link HistogramLogWriter}, read by {@code HistogramLogReader} and {@code HistogramLogProcessor}) and
 * JSON carrying each interval's compressed encoding in base64 ({@code format=base64}, read by
 * {@code Histogram.decodeFromCompressedByteBuffer}). Values are nanoseconds; the log's max column is in
 * milliseconds (HdrHistogram's default ratio of 10^6).
 */
final class HistogramFormats {
    static final String HLOG = "hlog";
    static final String BASE64 = "base64";
    static final List<String> NAMES = List.of(HLOG, BASE64);
    private static final double MAX_VALUE_UNIT_RATIO = 1_000_000.0;

    private HistogramFormats() {}

    /**
     * Writes the interval log: a comment naming the series, the format version, start and base time
     * (the first interval's start), the legend, then one line per interval with timestamps relative to
     * the base time, e.g. {@code 0.000,60.000,41.206,HISTFAAAAC…}.
     */
    static void writeLog(HistogramExport export, OutputStream out) {
        PrintStream print = new PrintStream(out, false, StandardCharsets.UTF_8);
        HistogramLogWriter log = new HistogramLogWriter(print);
        SeriesRange range = export.range();
        log.outputComment("[Tailprobe " + export.latency() + " time of target=" + range.target() + " probe="
                + range.probeType() + " protocol=" + (range.protocol() == null ? String.join(",", export.protocols())
                : range.protocol()) + " host=" + range.host() + ", values in nanoseconds]");
        log.outputLogFormatVersion();
        long baseMillis = export.fromMillis();
        log.outputStartTime(baseMillis);
        log.setBaseTime(baseMillis);
        log.outputBaseTime(baseMillis);
        log.outputLegend();
        export.forEachInterval((startMillis, endMillis, histogram) -> log.outputIntervalHistogram(
                (startMillis - baseMillis) / 1_000.0, (endMillis - baseMillis) / 1_000.0, histogram,
                MAX_VALUE_UNIT_RATIO));
        print.flush();
    }

    /** The JSON form: the series, then each interval's count and compressed encoding. */
    static Encoded encoded(HistogramExport export) {
        List<Interval> intervals = new ArrayList<>(export.intervals());
        export.forEachInterval((startMillis, endMillis, histogram) -> intervals.add(new Interval(startMillis, endMillis,
                histogram.getTotalCount(), Base64.getEncoder().encodeToString(LatencyHistograms.encode(histogram)))));
        SeriesRange range = export.range();
        return new Encoded(range.target(), range.probeType(), range.protocol(), export.protocols(), range.host(),
                export.latency().name(), export.fromMillis(), export.toMillis(), export.resolutionSeconds(),
                "nanoseconds", "HdrHistogram V2 compressed, base64", intervals);
    }

    /** {@code format=base64}'s body. */
    record Encoded(String target, String probe, String protocol, List<String> protocols, String host, String latency,
                   long fromMillis, long toMillis, int resolutionSeconds, String unit, String encoding,
                   List<Interval> intervals) {}

    /** One interval: {@code [startMillis, endMillis)}, its sample count and its histogram. */
    record Interval(long startMillis, long endMillis, long count, String histogramBase64) {}
}
