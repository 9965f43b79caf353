package io.tailprobe.aggregator;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Writes the golden {@code LatencySample} records of the previous schema version, v1 (before DNS answer
 * counts, packet counts and TLS expiry), as an agent of that version sent them: Avro single-object
 * encoding with v1's fingerprint, one file per record under
 * {@code src/test/resources/golden/LatencySample-v1/}. The files are committed and never rewritten:
 * they stand for records already in {@code latency.samples} when a newer aggregator starts. Run once,
 * when a schema version is retired, with the module as working directory.
 *
 * <p>Ten samples of series {@code golden-db|tcp|tcp}, all in the 10 s window starting
 * 2026-11-23T14:02:00Z: six from {@code old-agent-a} (1..6 ms, the sixth a TIMEOUT) and four from
 * {@code old-agent-b} (11..14 ms, the last REFUSED), each host with its own {@code az} label and the
 * same {@code region}, the first one with TCP phases.
 */
public final class GoldenSampleFiles {
    static final String FOLDER = "golden/LatencySample-v1";
    static final String SCHEMA = "/io/tailprobe/schemas/history/LatencySample-v1.avsc";
    static final String SERIES_KEY = "golden-db|tcp|tcp";
    static final long WINDOW_START_MILLIS = 1_795_442_520_000L;
    static final int FILES = 10;

    private GoldenSampleFiles() {}

    public static void main(String[] args) throws IOException {
        Path folder = Path.of(args.length > 0 ? args[0] : "src/test/resources/" + FOLDER);
        Files.createDirectories(folder);
        Schema v1 = schema();
        BinaryMessageEncoder<GenericRecord> encoder = new BinaryMessageEncoder<>(GenericData.get(), v1);
        List<GenericRecord> samples = samples(v1);
        for (int i = 0; i < samples.size(); i++) {
            ByteBuffer encoded = encoder.encode(samples.get(i));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            Files.write(folder.resolve(fileName(i)), bytes);
        }
    }

    static String fileName(int index) {
        return String.format("sample-%02d.bin", index);
    }

    /** The committed bytes of golden sample {@code index}. */
    static byte[] read(int index) {
        try (InputStream in = GoldenSampleFiles.class.getResourceAsStream("/" + FOLDER + "/" + fileName(index))) {
            if (in == null) {
                throw new IllegalStateException("golden file " + FOLDER + "/" + fileName(index) + " is not on the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Schema schema() throws IOException {
        try (InputStream in = GoldenSampleFiles.class.getResourceAsStream(SCHEMA)) {
            return new Schema.Parser().parse(in);
        }
    }

    private static List<GenericRecord> samples(Schema v1) {
        List<GenericRecord> samples = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            boolean hostA = i < 6;
            long responseNanos = (hostA ? i + 1 : i + 5) * 1_000_000L;
            long scheduledMicros = (WINDOW_START_MILLIS + i * 900L) * 1_000L;
            String outcome = i == 5 ? "TIMEOUT" : i == 9 ? "REFUSED" : "OK";
            GenericRecord sample = new GenericData.Record(v1);
            for (Schema.Field field : v1.getFields()) {
                sample.put(field.name(), field.hasDefaultValue() ? GenericData.get().getDefaultValue(field) : null);
            }
            sample.put("host", hostA ? "old-agent-a" : "old-agent-b");
            sample.put("target", "golden-db");
            sample.put("address", "10.0.0.7:5432");
            sample.put("probeType", "tcp");
            sample.put("protocol", "tcp");
            sample.put("scheduledStartMicros", scheduledMicros);
            sample.put("actualStartMicros", scheduledMicros + 100);
            sample.put("serviceTimeNanos", responseNanos - 100_000L);
            sample.put("responseTimeNanos", responseNanos);
            sample.put("outcome", new GenericData.EnumSymbol(v1.getField("outcome").schema(), outcome));
            sample.put("sequence", (long) i);
            sample.put("labels", Map.of("region", "eu-west-1", "az", hostA ? "eu-west-1a" : "eu-west-1b"));
            if (i == 0) {
                Schema phases = v1.getField("phases").schema().getTypes().get(1);
                GenericRecord timings = new GenericData.Record(phases);
                timings.put("connectNanos", 300_000L);
                timings.put("firstByteNanos", 500_000L);
                sample.put("phases", timings);
            }
            samples.add(sample);
        }
        return samples;
    }
}
