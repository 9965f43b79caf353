package io.tailprobe.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for a generated Avro record using Avro's single-object encoding: a two-byte
 * marker, the writer schema's fingerprint, then the binary record. Decoding resolves older writer
 * schemas through {@link SchemaHistory}, so no schema registry is needed.
 *
 * <p>Decoding reads the header itself and the body with a buffered {@link BinaryDecoder} over the
 * array, with one {@link DatumReader} per writer schema: Avro's own message decoder reads through
 * an unbuffered stream decoder, a virtual call per byte, which made decoding a sample the largest
 * cost of the aggregator. Anything that is not a well-formed header of a known schema takes Avro's
 * path, for Avro's error message.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
    /** Avro's single-object encoding: marker C3 01, then the writer schema's 8-byte fingerprint. */
    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;
    private static final int HEADER_BYTES = 10;

    private final Class<T> type;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final SpecificData model;
    private final Schema schema;
    /** By writer schema fingerprint; null values are not stored (unknown fingerprints take Avro's path). */
    private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();

    public AvroSerde(Class<T> type) {
        this.type = type;
        this.model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema, SchemaHistory.store());
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Decodes one message.
     *
     * @throws SerializationException naming what was wrong: not single-object encoded, unknown
     *     schema fingerprint, or a body that does not match its schema
     */
    public T decode(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            DatumReader<T> reader = bytes.length >= HEADER_BYTES && bytes[0] == MARKER_0 && bytes[1] == MARKER_1
                    ? reader(ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()) : null;
            if (reader == null) {
                return decoder.decode(bytes);
            }
            BinaryDecoder body = DecoderFactory.get().binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, null);
            T record = reader.read(null, body);
            if (!body.isEnd()) {
                throw new IOException("bytes left after the record");
            }
            return record;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot decode " + type.getSimpleName() + " (" + bytes.length
                    + " bytes): " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private DatumReader<T> reader(long fingerprint) {
        DatumReader<T> reader = readers.get(fingerprint);
        if (reader == null) {
            Schema writer = SchemaHistory.store().findByFingerprint(fingerprint);
            if (writer == null) {
                return null;
            }
            reader = new SpecificDatumReader<>(writer, schema, model);
            readers.put(fingerprint, reader);
        }
        return reader;
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, record) -> record == null ? null : encode(record);
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> decode(bytes);
    }
}
