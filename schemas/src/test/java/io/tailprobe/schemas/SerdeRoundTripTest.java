package io.tailprobe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class SerdeRoundTripTest {

    static LatencySample sample() {
        return LatencySample.newBuilder()
                .setHost("host-a").setTarget("db").setAddress("127.0.0.1:5432")
                .setProbeType("http").setProtocol("h2")
                .setScheduledStartMicros(1_763_900_000_000_000L).setActualStartMicros(1_763_900_000_000_250L)
                .setServiceTimeNanos(1_500_000L).setResponseTimeNanos(1_750_000L)
                .setOutcome(Outcome.OK)
                .setPhases(PhaseTimings.newBuilder().setDnsNanos(10_000L).setConnectNanos(200_000L)
                        .setTlsNanos(700_000L).setFirstByteNanos(500_000L).setTransferNanos(90_000L).build())
                .setConnectionReused(false).setStatusCode(200).setSequence(42L)
                .setLabels(Map.of("region", "eu-west-1"))
                .build();
    }

    @Test
    void latency_sample_round_trips_through_single_object_encoding() {
        AvroSerde<LatencySample> serde = Topics.sampleSerde();
        byte[] bytes = serde.serializer().serialize(Topics.SAMPLES, sample());

        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(serde.deserializer().deserialize(Topics.SAMPLES, bytes)).isEqualTo(sample());
    }

    @Test
    void windowed_histogram_round_trips_with_its_encoded_histograms() {
        Histogram response = LatencyHistograms.newHistogram();
        for (long v = 1; v <= 1000; v++) {
            LatencyHistograms.record(response, v * 1_000_000L);
        }
        WindowedHistogram record = WindowedHistogram.newBuilder()
                .setTarget("db").setProbeType("tcp").setProtocol("tcp").setHost(HistogramKey.FLEET)
                .setResolutionSeconds(10).setWindowStartMillis(1_763_900_000_000L).setWindowEndMillis(1_763_900_010_000L)
                .setSampleCount(1001).setOutcomeCounts(Map.of("OK", 1000L, "TIMEOUT", 1L))
                .setMinResponseTimeNanos(1_000_000L).setMaxResponseTimeNanos(1_000_000_000L)
                .setServiceTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(LatencyHistograms.newHistogram())))
                .setResponseTimeHistogram(ByteBuffer.wrap(LatencyHistograms.encode(response)))
                .build();

        AvroSerde<WindowedHistogram> serde = Topics.histogramSerde();
        WindowedHistogram back = serde.decode(serde.encode(record));

        assertThat(back).isEqualTo(record);
        Histogram decoded = LatencyHistograms.decode(back.getResponseTimeHistogram());
        assertThat(decoded.getTotalCount()).isEqualTo(1000);
        assertThat(decoded.getValueAtPercentile(50.0)).isCloseTo(500_000_000L, org.assertj.core.data.Percentage.withPercentage(0.1));
        assertThat(decoded.getValueAtPercentile(99.0)).isCloseTo(990_000_000L, org.assertj.core.data.Percentage.withPercentage(0.1));
    }

    @Test
    void message_written_with_an_older_schema_is_read_by_todays_reader() throws Exception {
        Schema v0;
        try (InputStream in = getClass().getResourceAsStream("/io/tailprobe/schemas/history/LatencySample-v0.avsc")) {
            v0 = new Schema.Parser().parse(in);
        }
        GenericRecord old = new GenericData.Record(v0);
        old.put("host", "old-agent");
        putSeries(old);
        old.put("scheduledStartMicros", 1_000_000L);
        old.put("actualStartMicros", 1_000_100L);
        old.put("serviceTimeNanos", 300_000L);
        old.put("responseTimeNanos", 400_000L);
        old.put("outcome", new GenericData.EnumSymbol(v0.getField("outcome").schema(), "REFUSED"));
        old.put("sequence", 7L);
        byte[] bytes = encodeWith(v0, old);

        LatencySample read = Topics.sampleSerde().decode(bytes);

        assertThat(read.getHost()).isEqualTo("old-agent");
        assertThat(read.getServiceTimeNanos()).isEqualTo(300_000L);
        assertThat(read.getResponseTimeNanos()).isEqualTo(400_000L);
        assertThat(read.getOutcome()).isEqualTo(Outcome.REFUSED);
        assertThat(read.getSequence()).isEqualTo(7L);
        assertThat(read.getPhases()).isNull();
        assertThat(read.getLabels()).isEmpty();
    }

    @Test
    void every_released_schema_version_is_in_the_history_and_readable() throws Exception {
        Schema v1;
        try (InputStream in = getClass().getResourceAsStream("/io/tailprobe/schemas/history/LatencySample-v1.avsc")) {
            v1 = new Schema.Parser().parse(in);
        }
        assertThat(SchemaHistory.historicalSchemas()).contains(v1);
        GenericRecord old = new GenericData.Record(v1);
        for (Schema.Field field : v1.getFields()) {
            old.put(field.name(), field.hasDefaultValue() ? GenericData.get().getDefaultValue(field) : null);
        }
        old.put("host", "v1-agent");
        putSeries(old);
        old.put("scheduledStartMicros", 1_000_000L);
        old.put("actualStartMicros", 1_000_000L);
        old.put("serviceTimeNanos", 250_000L);
        old.put("responseTimeNanos", 250_000L);
        old.put("outcome", new GenericData.EnumSymbol(v1.getField("outcome").schema(), "OK"));
        old.put("sequence", 1L);
        byte[] bytes = encodeWith(v1, old);

        LatencySample read = Topics.sampleSerde().decode(bytes);

        assertThat(read.getHost()).isEqualTo("v1-agent");
        assertThat(read.getServiceTimeNanos()).isEqualTo(250_000L);
        assertThat(read.getPacketsSent()).isNull();
        assertThat(read.getAnswerCount()).isNull();
    }

    @Test
    void a_window_written_before_labels_existed_is_read_with_no_labels() throws Exception {
        Schema v1;
        try (InputStream in = getClass().getResourceAsStream("/io/tailprobe/schemas/history/WindowedHistogram-v1.avsc")) {
            v1 = new Schema.Parser().parse(in);
        }
        assertThat(SchemaHistory.historicalSchemas()).contains(v1);
        GenericRecord old = new GenericData.Record(v1);
        for (Schema.Field field : v1.getFields()) {
            old.put(field.name(), field.hasDefaultValue() ? GenericData.get().getDefaultValue(field) : null);
        }
        old.put("target", "db");
        old.put("probeType", "tcp");
        old.put("protocol", "tcp");
        old.put("host", HistogramKey.FLEET);
        old.put("resolutionSeconds", 10);
        old.put("windowStartMillis", 1_763_900_000_000L);
        old.put("windowEndMillis", 1_763_900_010_000L);
        old.put("sampleCount", 3L);
        old.put("serviceTimeHistogram", ByteBuffer.wrap(LatencyHistograms.encode(LatencyHistograms.newHistogram())));
        old.put("responseTimeHistogram", ByteBuffer.wrap(LatencyHistograms.encode(LatencyHistograms.newHistogram())));

        WindowedHistogram read = Topics.histogramSerde().decode(encodeWith(v1, old));

        assertThat(read.getWindowStartMillis()).isEqualTo(1_763_900_000_000L);
        assertThat(read.getSampleCount()).isEqualTo(3L);
        assertThat(read.getLabels()).isEmpty();
    }

    private static void putSeries(GenericRecord record) {
        record.put("target", "db");
        record.put("address", "10.0.0.7:5432");
        record.put("probeType", "tcp");
        record.put("protocol", "tcp");
    }

    private static byte[] encodeWith(Schema writer, GenericRecord record) throws java.io.IOException {
        ByteBuffer written = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(record);
        byte[] bytes = new byte[written.remaining()];
        written.get(bytes);
        return bytes;
    }

    @Test
    void bytes_that_are_not_a_known_message_get_an_error_naming_the_problem() {
        assertThatThrownBy(() -> Topics.sampleSerde().decode(new byte[] {1, 2, 3}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("cannot decode LatencySample (3 bytes)");

        byte[] unknownFingerprint = new byte[] {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0};
        assertThatThrownBy(() -> Topics.sampleSerde().decode(unknownFingerprint))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("MissingSchemaException");

        byte[] whole = Topics.sampleSerde().encode(sample());
        assertThatThrownBy(() -> Topics.sampleSerde().decode(Arrays.copyOf(whole, whole.length - 3)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("cannot decode LatencySample (" + (whole.length - 3) + " bytes)");
        assertThatThrownBy(() -> Topics.sampleSerde().decode(Arrays.copyOf(whole, whole.length + 2)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("bytes left after the record");
    }

    @Test
    void histogram_keys_sort_by_series_then_time() {
        SeriesKey series = new SeriesKey("db", "tcp", "tcp");
        String early = new HistogramKey(series, "*", 10, 9_000L).encode();
        String late = new HistogramKey(series, "*", 10, 10_000L).encode();
        assertThat(early).isEqualTo("db|tcp|tcp|*|10|0000000000009000");
        assertThat(early.compareTo(late)).isNegative();
        assertThatThrownBy(() -> new SeriesKey("a|b", "tcp", "tcp"))
                .hasMessage("target must not contain '|', got \"a|b\"");
    }
}
