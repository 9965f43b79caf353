package io.tailprobe.standalone.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailprobe.query.percentile.Latency;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.HistogramLogWriter;

/**
 * How re-aggregated windows are written: an aligned table (milliseconds, for reading), CSV or NDJSON
 * (nanoseconds, exact), or an HdrHistogram interval log (one interval per window and series, tagged
 * {@code target|probe|protocol|host}, readable by {@code HistogramLogReader} and HdrHistogram's tools).
 */
enum WindowOutput {
    TABLE, CSV, NDJSON, HLOG;

    /** Writes {@code rows} (every window, each series and host in time order) to {@code out}; leaves it open. */
    void write(List<WindowRow> rows, Latency latency, List<Double> quantiles, OutputStream out) throws IOException {
        switch (this) {
            case TABLE -> table(rows, latency, quantiles, out);
            case CSV -> csv(rows, latency, quantiles, out);
            case NDJSON -> ndjson(rows, latency, quantiles, out);
            case HLOG -> hlog(rows, latency, out);
        }
        out.flush();
    }

    /** {@code 0.5} → {@code p50}, {@code 0.999} → {@code p99.9}. */
    static String percentileName(double quantile) {
        return "p" + BigDecimal.valueOf(quantile).movePointRight(2).stripTrailingZeros().toPlainString();
    }

    private static void table(List<WindowRow> rows, Latency latency, List<Double> quantiles, OutputStream out) {
        List<String> header = new ArrayList<>(List.of("window start (UTC)", "target", "probe", "protocol", "host",
                "samples", "ok", "min ms"));
        quantiles.forEach(q -> header.add(percentileName(q) + " ms"));
        header.add("max ms");
        List<String[]> lines = new ArrayList<>();
        lines.add(header.toArray(String[]::new));
        for (WindowRow row : rows) {
            List<String> cells = new ArrayList<>(List.of(Instant.ofEpochMilli(row.windowStartMillis()).toString(),
                    row.series().target(), row.series().probeType(), row.series().protocol(),
                    row.host(), Long.toString(row.sampleCount()), Long.toString(row.latencyCount()),
                    millis(row.minNanos())));
            for (int i = 0; i < quantiles.size(); i++) {
                cells.add(row.quantileNanos().length == 0 ? "-" : millis(row.quantileNanos()[i]));
            }
            cells.add(millis(row.maxNanos()));
            lines.add(cells.toArray(String[]::new));
        }
        int[] widths = new int[header.size()];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        PrintWriter writer = new PrintWriter(out, false, StandardCharsets.UTF_8);
        writer.println("# " + latency + " time, " + rows.size() + " windows");
        for (String[] line : lines) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                // names left-aligned, figures right-aligned
                String cell = i <= 4 ? String.format(Locale.ROOT, "%-" + widths[i] + "s", line[i])
                        : String.format(Locale.ROOT, "%" + widths[i] + "s", line[i]);
                text.append(i == 0 ? "" : "  ").append(cell);
            }
            writer.println(text.toString().stripTrailing());
        }
        flush(writer);
    }

    private static void csv(List<WindowRow> rows, Latency latency, List<Double> quantiles, OutputStream out) {
        PrintWriter writer = new PrintWriter(out, false, StandardCharsets.UTF_8);
        List<String> header = new ArrayList<>(List.of("window_start", "window_start_millis", "window_end_millis",
                "target", "probe", "protocol", "host", "time", "samples", "ok", "min_nanos"));
        quantiles.forEach(q -> header.add(percentileName(q) + "_nanos"));
        header.add("max_nanos");
        writer.print(String.join(",", header) + "\r\n");
        for (WindowRow row : rows) {
            List<String> cells = new ArrayList<>(List.of(Instant.ofEpochMilli(row.windowStartMillis()).toString(),
                    Long.toString(row.windowStartMillis()), Long.toString(row.windowEndMillis()),
                    csvCell(row.series().target()), csvCell(row.series().probeType()),
                    csvCell(row.series().protocol()), csvCell(row.host()), latency.name(),
                    Long.toString(row.sampleCount()), Long.toString(row.latencyCount()), nanos(row.minNanos())));
            for (int i = 0; i < quantiles.size(); i++) {
                cells.add(row.quantileNanos().length == 0 ? "" : Long.toString(row.quantileNanos()[i]));
            }
            cells.add(nanos(row.maxNanos()));
            writer.print(String.join(",", cells) + "\r\n");
        }
        flush(writer);
    }

    /** PrintWriter keeps its errors to itself: a full disk must not pass for a written file. */
    private static void flush(PrintWriter writer) {
        writer.flush();
        if (writer.checkError()) {
            throw new UncheckedIOException(new IOException("the write failed"));
        }
    }

    private static void ndjson(List<WindowRow> rows, Latency latency, List<Double> quantiles, OutputStream out)
            throws IOException {
        ObjectMapper json = new ObjectMapper();
        for (WindowRow row : rows) {
            ObjectNode line = json.createObjectNode();
            line.put("windowStart", Instant.ofEpochMilli(row.windowStartMillis()).toString());
            line.put("windowStartMillis", row.windowStartMillis());
            line.put("windowEndMillis", row.windowEndMillis());
            line.put("target", row.series().target());
            line.put("probe", row.series().probeType());
            line.put("protocol", row.series().protocol());
            line.put("host", row.host());
            line.put("time", latency.name());
            line.put("samples", row.sampleCount());
            ObjectNode outcomes = line.putObject("outcomes");
            row.outcomeCounts().forEach(outcomes::put);
            line.put("count", row.latencyCount());
            if (row.minNanos() != null) {
                line.put("minNanos", row.minNanos());
                line.put("maxNanos", row.maxNanos());
                ObjectNode quantileNanos = line.putObject("quantilesNanos");
                for (int i = 0; i < quantiles.size(); i++) {
                    quantileNanos.put(BigDecimal.valueOf(quantiles.get(i)).toPlainString(), row.quantileNanos()[i]);
                }
            }
            out.write(json.writeValueAsBytes(line));
            out.write('\n');
        }
    }

    private static void hlog(List<WindowRow> rows, Latency latency, OutputStream out) {
        PrintStream stream = new PrintStream(out, false, StandardCharsets.UTF_8);
        HistogramLogWriter writer = new HistogramLogWriter(stream);
        writer.outputComment("tailprobe replay: " + latency + " time in nanoseconds, one interval per window, "
                + "tagged target|probe|protocol|host");
        writer.outputLogFormatVersion();
        if (!rows.isEmpty()) {
            long firstStart = rows.stream().mapToLong(row -> row.windowStartMillis()).min().orElseThrow();
            writer.outputStartTime(firstStart);
        }
        writer.outputLegend();
        // intervals in time order, as log readers expect
        rows.stream().sorted(Comparator.comparingLong(WindowRow::windowStartMillis))
                .forEach(row -> writer.outputIntervalHistogram(row.histogram()));
        stream.flush();
        if (stream.checkError()) {
            throw new UncheckedIOException(new IOException("writing the HdrHistogram log failed"));
        }
    }

    private static String millis(Long nanos) {
        return nanos == null ? "-" : String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    private static String nanos(Long nanos) {
        return nanos == null ? "" : Long.toString(nanos);
    }

    /** RFC 4180: quoted when it holds a comma, quote or line break (names are free of '|' only). */
    private static String csvCell(String value) {
        if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
            return value;
        }
        return '"' + value.replace("\"", "\"\"") + '"';
    }
}
