package io.tailprobe.query;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.SeriesKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Writes the golden {@code WindowedHistogram} records of the previous schema version, v1 (before
 * labels), as aggregators of that version wrote them to {@code latency.histograms.10s}: Avro
 * single-object encoding with v1's fingerprint, one file per record under
 * {@code src/test/resources/golden/WindowedHistogram-v1/}, named after the record's key. The first
 * window's histograms are in HdrHistogram's compressed encoding (what aggregators wrote until they
 * switched to the plain V2 encoding), the second's in V2. The files are committed and never rewritten:
 * they stand for windows already in the topics when a newer query API starts. Run once, when a schema
 * version is retired, with the module as working directory.
 *
 * <p>Series {@code golden-db|tcp|tcp}, 10 s windows from 2026-11-23T14:02:00Z: {@code old-agent-a}
 * with 1, 2, 3 ms and a TIMEOUT, then 4 and 5 ms; the fleet-wide windows add {@code old-agent-b}'s
 * 11 ms to the first.
 */
public final class GoldenWindowFiles {
    public static final String FOLDER = "golden/WindowedHistogram-v1";
    public static final SeriesKey SERIES = new SeriesKey("golden-db", "tcp", "tcp");
    public static final long FIRST_START_MILLIS = 1_795_442_520_000L;
    /** The golden windows: host, start, OK response times in ms, timeouts, and whether compressed. */
    static final List<Window> WINDOWS = List.of(
            new Window("old-agent-a", FIRST_START_MILLIS, new long[] {1, 2, 3}, 1, true),
            new Window(HistogramKey.FLEET, FIRST_START_MILLIS, new long[] {1, 2, 3, 11}, 1, true),
            new Window("old-agent-a", FIRST_START_MILLIS + 10_000, new long[] {4, 5}, 0, false),
            new Window(HistogramKey.FLEET, FIRST_START_MILLIS + 10_000, new long[] {4, 5}, 0, false));

    record Window(String host, long startMillis, long[] okMillis, long timeouts, boolean compressed) {
        public HistogramKey key() {
            return new HistogramKey(SERIES, host, 10, startMillis);
        }

        String fileName() {
            return key().encode().replace('|', '_').replace('*', 'F') + ".bin";
        }
    }

    private GoldenWindowFiles() {}

    public static void main(String[] args) throws IOException {
        Path folder = Path.of(args.length > 0 ? args[0] : "src/test/resources/" + FOLDER);
        Files.createDirectories(folder);
        Schema v1 = schema();
        BinaryMessageEncoder<GenericRecord> encoder = new BinaryMessageEncoder<>(GenericData.get(), v1);
        for (Window window : WINDOWS) {
            ByteBuffer encoded = encoder.encode(record(v1, window));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            Files.write(folder.resolve(window.fileName()), bytes);
        }
    }

    /** The keys of the golden windows and their committed bytes, in {@link #WINDOWS} order. */
    public static Map<HistogramKey, byte[]> read() {
        Map<HistogramKey, byte[]> files = new LinkedHashMap<>();
        for (Window window : WINDOWS) {
            String name = "/" + FOLDER + "/" + window.fileName();
            try (InputStream in = GoldenWindowFiles.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("golden file " + name + " is not on the classpath");
                }
                files.put(window.key(), in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    public static Schema schema() throws IOException {
        try (InputStream in = GoldenWindowFiles.class.getResourceAsStream(
                "/io/tailprobe/schemas/history/WindowedHistogram-v1.avsc")) {
            return new Schema.Parser().parse(in);
        }
    }

    private static GenericRecord record(Schema v1, Window window) {
        Histogram response = LatencyHistograms.newHistogram();
        Histogram service = LatencyHistograms.newHistogram();
        for (long millis : window.okMillis()) {
            LatencyHistograms.record(response, millis * 1_000_000L);
            LatencyHistograms.record(service, millis * 1_000_000L - 100_000L);
        }
        long minMillis = Arrays.stream(window.okMillis()).min().orElseThrow();
        long maxMillis = Arrays.stream(window.okMillis()).max().orElseThrow();
        GenericRecord record = new GenericData.Record(v1);
        record.put("target", SERIES.target());
        record.put("probeType", SERIES.probeType());
        record.put("protocol", SERIES.protocol());
        record.put("host", window.host());
        record.put("resolutionSeconds", 10);
        record.put("windowStartMillis", window.startMillis());
        record.put("windowEndMillis", window.startMillis() + 10_000);
        record.put("sampleCount", window.okMillis().length + window.timeouts());
        record.put("outcomeCounts", window.timeouts() == 0 ? Map.of("OK", (long) window.okMillis().length)
                : Map.of("OK", (long) window.okMillis().length, "TIMEOUT", window.timeouts()));
        record.put("minServiceTimeNanos", minMillis * 1_000_000L - 100_000L);
        record.put("maxServiceTimeNanos", maxMillis * 1_000_000L - 100_000L);
        record.put("minResponseTimeNanos", minMillis * 1_000_000L);
        record.put("maxResponseTimeNanos", maxMillis * 1_000_000L);
        record.put("serviceTimeHistogram", ByteBuffer.wrap(encode(service, window.compressed())));
        record.put("responseTimeHistogram", ByteBuffer.wrap(encode(response, window.compressed())));
        record.put("phaseHistograms", Map.of());
        return record;
    }

    private static byte[] encode(Histogram histogram, boolean compressed) {
        if (compressed) {
            return LatencyHistograms.encode(histogram);
        }
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoByteBuffer(buffer);
        return Arrays.copyOf(buffer.array(), length);
    }
}
