package io.tailprobe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiFunction;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** AvroSerde's own encoding path writes exactly what Avro's message encoder writes. */
class AvroSerdeTest {

    private static final String[] WORDS = {"", "a", "db", "host-a", "eu-west-1", "zürich", "東京", "naïve café",
        "🚀 launch", "line\nbreak", "x".repeat(200), "Ω≈ç√∫", "\u0000nul"};

    @Test
    void windowed_histograms_encode_to_avros_bytes_and_round_trip() throws Exception {
        encodesToAvrosBytesAndRoundTrips(Topics.histogramSerde(), new Random(42), AvroSerdeTest::histogram);
    }

    @Test
    void latency_samples_encode_to_avros_bytes_and_round_trip() throws Exception {
        encodesToAvrosBytesAndRoundTrips(Topics.sampleSerde(), new Random(7), AvroSerdeTest::sample);
    }

    private static <T extends SpecificRecord> void encodesToAvrosBytesAndRoundTrips(
            AvroSerde<T> serde, Random random, BiFunction<Random, Integer, T> records) throws Exception {
        for (int i = 0; i < 2_000; i++) {
            T record = records.apply(random, i);
            byte[] bytes = serde.encodeDirectly(record);
            assertThat(bytes).as("record %d: %s", i, record).isEqualTo(avroBytes(record));
            assertThat(serde.encode(record)).isEqualTo(bytes);
            assertThat(serde.decode(bytes)).as("record %d", i).isEqualTo(record);
        }
    }

    @Test
    void the_serializer_encodes_like_encode_and_passes_null_through() {
        WindowedHistogram record = histogram(new Random(1), 1);
        assertThat(Topics.histogramSerde().serializer().serialize(Topics.HISTOGRAMS, record))
                .isEqualTo(avroBytes(record));
        assertThat(Topics.histogramSerde().serializer().serialize(Topics.HISTOGRAMS, null)).isNull();
    }

    @Test
    void a_record_larger_than_the_buffer_is_encoded_whole_and_the_next_one_too() throws Exception {
        AvroSerde<WindowedHistogram> serde = Topics.histogramSerde();
        Random random = new Random(3);
        WindowedHistogram large = histogram(random, 0);
        large.setResponseTimeHistogram(ByteBuffer.wrap(bytes(random, 3 << 20)));
        WindowedHistogram small = histogram(random, 1);

        assertThat(serde.encodeDirectly(large)).isEqualTo(avroBytes(large));
        assertThat(serde.encodeDirectly(small)).isEqualTo(avroBytes(small));
        assertThat(serde.encodeDirectly(large)).isEqualTo(avroBytes(large));
    }

    @Test
    void threads_encoding_at_once_each_get_their_own_records_bytes() throws Exception {
        encodeAtOnce(Executors.newFixedThreadPool(4));
    }

    @Test
    void virtual_threads_encoding_at_once_each_get_their_own_records_bytes() throws Exception {
        encodeAtOnce(Executors.newVirtualThreadPerTaskExecutor());
    }

    private static void encodeAtOnce(ExecutorService pool) throws Exception {
        AvroSerde<WindowedHistogram> histograms = Topics.histogramSerde();
        AvroSerde<LatencySample> samples = Topics.sampleSerde();
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                Callable<Integer> task = () -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 500; i++) {
                        WindowedHistogram histogram = histogram(random, i);
                        LatencySample sample = sample(random, i);
                        byte[] histogramBytes = histograms.encodeDirectly(histogram);
                        byte[] sampleBytes = samples.encodeDirectly(sample);
                        assertThat(histogramBytes).isEqualTo(avroBytes(histogram));
                        assertThat(sampleBytes).isEqualTo(avroBytes(sample));
                    }
                    return 500;
                };
                results.add(pool.submit(task));
            }
            for (Future<Integer> result : results) {
                assertThat(result.get()).isEqualTo(500);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void a_null_in_a_non_null_field_fails_with_avros_message_naming_the_type_and_field() throws Exception {
        AvroSerde<WindowedHistogram> serde = Topics.histogramSerde();
        WindowedHistogram record = histogram(new Random(5), 5);
        record.setProbeType(null);
        String avroMessage = avroFailure(record);

        assertThatThrownBy(() -> serde.encode(record))
                .isInstanceOf(SerializationException.class)
                .hasMessageStartingWith("cannot encode WindowedHistogram: ")
                .hasMessageContaining("probeType")
                .hasMessage("cannot encode WindowedHistogram: " + avroMessage);

        WindowedHistogram nullLabel = histogram(new Random(6), 6);
        Map<String, String> labels = new HashMap<>();
        labels.put("region", null);
        nullLabel.setLabels(labels);
        assertThatThrownBy(() -> serde.encode(nullLabel))
                .isInstanceOf(SerializationException.class)
                .hasMessage("cannot encode WindowedHistogram: " + avroFailure(nullLabel))
                .hasMessageContaining("labels");

        WindowedHistogram nullBytes = histogram(new Random(7), 7);
        nullBytes.setServiceTimeHistogram(null);
        assertThatThrownBy(() -> serde.encode(nullBytes))
                .isInstanceOf(SerializationException.class)
                .hasMessage("cannot encode WindowedHistogram: " + avroFailure(nullBytes))
                .hasMessageContaining("serviceTimeHistogram");

        // a failure leaves nothing behind for the next record on this thread
        WindowedHistogram fine = histogram(new Random(8), 8);
        assertThatThrownBy(() -> serde.encodeDirectly(nullBytes)).isInstanceOf(NullPointerException.class);
        assertThat(serde.encodeDirectly(fine)).isEqualTo(avroBytes(fine));
    }

    @Test
    void a_sample_with_a_null_host_fails_naming_the_type_and_field() {
        LatencySample record = sample(new Random(9), 9);
        record.setHost(null);
        assertThatThrownBy(() -> Topics.sampleSerde().encode(record))
                .isInstanceOf(SerializationException.class)
                .hasMessageStartingWith("cannot encode LatencySample: ")
                .hasMessageContaining("host");
    }

    // --- Avro's own encoder, the reference ---

    private static <T extends SpecificRecord> byte[] avroBytes(T record) {
        try {
            ByteBuffer buffer = avroEncoder(record).encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static <T extends SpecificRecord> String avroFailure(T record) {
        try {
            avroEncoder(record).encode(record);
        } catch (Exception e) {
            return e.getMessage();
        }
        throw new AssertionError("Avro encoded " + record);
    }

    @SuppressWarnings("unchecked")
    private static <T extends SpecificRecord> BinaryMessageEncoder<T> avroEncoder(T record) {
        SpecificData model = SpecificData.getForClass(record.getClass());
        return new BinaryMessageEncoder<>(model, record.getSchema());
    }

    // --- varied records ---

    static WindowedHistogram histogram(Random random, int i) {
        Map<String, Long> outcomes = new LinkedHashMap<>();
        int outcomeCount = random.nextInt(4) == 0 ? 0 : random.nextInt(Outcome.values().length) + 1;
        for (int k = 0; k < outcomeCount; k++) {
            outcomes.put(k % 3 == 2 ? word(random) + k : Outcome.values()[k].name(), varLong(random));
        }
        Map<String, ByteBuffer> phases = new LinkedHashMap<>();
        int phaseCount = random.nextInt(3) == 0 ? 0 : random.nextInt(Phases.NAMES.size()) + 1;
        for (int k = 0; k < phaseCount; k++) {
            phases.put(Phases.NAMES.get(k), byteBuffer(random));
        }
        return new WindowedHistogram(word(random), word(random), word(random), i % 5 == 0 ? HistogramKey.FLEET : word(random),
                varInt(random), varLong(random), varLong(random), varLong(random), outcomes,
                nullableLong(random), nullableLong(random), nullableLong(random), nullableLong(random),
                byteBuffer(random), byteBuffer(random), phases, labels(random));
    }

    static LatencySample sample(Random random, int i) {
        PhaseTimings phases = random.nextBoolean() ? null : new PhaseTimings(nullableLong(random), nullableLong(random),
                nullableLong(random), nullableLong(random), nullableLong(random), nullableLong(random));
        return new LatencySample(word(random), word(random), word(random), word(random), word(random),
                varLong(random), varLong(random), varLong(random), varLong(random),
                Outcome.values()[i % Outcome.values().length], phases,
                random.nextInt(3) == 0 ? null : random.nextBoolean(), nullableInt(random), varLong(random),
                random.nextBoolean() ? null : word(random), nullableInt(random), nullableInt(random), nullableInt(random),
                nullableInt(random), nullableLong(random), labels(random));
    }

    private static Map<String, String> labels(Random random) {
        Map<String, String> labels = new HashMap<>();
        int count = random.nextInt(3) == 0 ? 0 : random.nextInt(5) + 1;
        for (int k = 0; k < count; k++) {
            labels.put(word(random) + k, word(random));
        }
        return labels;
    }

    private static String word(Random random) {
        return WORDS[random.nextInt(WORDS.length)];
    }

    private static long varLong(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> 0L;
            case 1 -> Long.MIN_VALUE;
            case 2 -> Long.MAX_VALUE;
            case 3 -> -random.nextInt(1000);
            case 4 -> random.nextInt(128);
            default -> random.nextLong() >> random.nextInt(64);
        };
    }

    private static int varInt(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> 0;
            case 1 -> Integer.MIN_VALUE;
            case 2 -> Integer.MAX_VALUE;
            case 3 -> -random.nextInt(100);
            default -> random.nextInt() >> random.nextInt(32);
        };
    }

    private static Long nullableLong(Random random) {
        return random.nextInt(3) == 0 ? null : varLong(random);
    }

    private static Integer nullableInt(Random random) {
        return random.nextInt(3) == 0 ? null : varInt(random);
    }

    /** Empty, whole arrays, slices at an offset, and direct buffers. */
    private static ByteBuffer byteBuffer(Random random) {
        byte[] content = bytes(random, random.nextInt(4) == 0 ? 0 : random.nextInt(3000));
        return switch (random.nextInt(3)) {
            case 0 -> ByteBuffer.wrap(content);
            case 1 -> {
                byte[] padded = new byte[content.length + 20];
                System.arraycopy(content, 0, padded, 7, content.length);
                yield ByteBuffer.wrap(padded, 7, content.length).slice();
            }
            default -> ByteBuffer.allocateDirect(content.length).put(content).flip();
        };
    }

    private static byte[] bytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
