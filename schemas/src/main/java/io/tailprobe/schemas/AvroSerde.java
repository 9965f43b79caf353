package io.tailprobe.schemas;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Conversion;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
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
 *
 * <p>Encoding likewise writes the header itself and the body with one shared {@link DatumWriter}
 * through a direct {@link BinaryEncoder} into a growable buffer kept per platform thread, then copies
 * exactly the written bytes out. The writer uses the generated classes' custom coders (their
 * {@code customEncode}, which writes the fields in schema order without walking the schema), which
 * Avro only uses when asked. The bytes are the same as Avro's {@link BinaryMessageEncoder} writes;
 * if this path fails for any reason (e.g. a null in a non-null field, where the custom coders name
 * no field), the record is encoded again through Avro's encoder, for Avro's error message.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
    /** Avro's single-object encoding: marker C3 01, then the writer schema's 8-byte fingerprint. */
    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;
    private static final int HEADER_BYTES = 10;
    /** One encode buffer per platform thread, shared by every serde: encode does not nest. */
    private static final ThreadLocal<EncodeBuffer> ENCODE_BUFFER = ThreadLocal.withInitial(EncodeBuffer::new);

    private final Class<T> type;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final SpecificData model;
    private final Schema schema;
    /** Marker and fingerprint, as Avro's encoder writes them. */
    private final byte[] header;
    /** With custom coders on; thread-safe, as Avro's own message encoder shares its writer too. */
    private final DatumWriter<T> writer;
    /** By writer schema fingerprint; null values are not stored (unknown fingerprints take Avro's path). */
    private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();

    public AvroSerde(Class<T> type) {
        this.type = type;
        this.model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .put(MARKER_0).put(MARKER_1).putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
        this.writer = new SpecificDatumWriter<>(schema, customCoders(model, type));
        this.decoder = new BinaryMessageDecoder<>(model, schema, SchemaHistory.store());
    }

    /** A copy of the model, for writing only, that uses the generated classes' custom coders. */
    private static SpecificData customCoders(SpecificData model, Class<?> type) {
        SpecificData writing = new SpecificData(type.getClassLoader());
        for (Conversion<?> conversion : model.getConversions()) {
            writing.addLogicalTypeConversion(conversion);
        }
        writing.setCustomCoders(true);
        return writing;
    }

    /**
     * Encodes one record.
     *
     * @throws SerializationException naming the type and, through Avro's message, what was wrong
     */
    public byte[] encode(T record) {
        try {
            return encodeDirectly(record);
        } catch (IOException | RuntimeException e) {
            return encodeWithAvro(record);
        }
    }

    /** The header, then the body through the custom coders, into this thread's buffer. */
    byte[] encodeDirectly(T record) throws IOException {
        // a virtual thread gets its own buffer for the call, not a thread-local (there may be millions of them)
        EncodeBuffer buffer = Thread.currentThread().isVirtual() ? new EncodeBuffer() : ENCODE_BUFFER.get();
        buffer.reset();
        buffer.write(header, 0, HEADER_BYTES);
        writer.write(record, buffer.encoder);
        return buffer.toByteArray();
    }

    /** Avro's own path: its message encoder, for its error message (e.g. the path to a null field). */
    private byte[] encodeWithAvro(T record) {
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

    /**
     * A growable byte array written by a direct (unbuffered) encoder: every write lands in the array
     * once, and {@link #toByteArray()} copies out exactly the bytes written.
     */
    private static final class EncodeBuffer extends OutputStream {
        private static final int INITIAL_BYTES = 4096;
        /** A larger buffer, grown for an unusually large record, is dropped at the next reset. */
        private static final int RETAINED_BYTES = 1 << 20;

        final BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(this, null);
        private byte[] bytes = new byte[INITIAL_BYTES];
        private int count;

        void reset() {
            count = 0;
            if (bytes.length > RETAINED_BYTES) {
                bytes = new byte[INITIAL_BYTES];
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, count);
        }

        @Override
        public void write(int b) {
            if (count == bytes.length) {
                grow(1);
            }
            bytes[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (len > bytes.length - count) {
                grow(len);
            }
            System.arraycopy(b, off, bytes, count, len);
            count += len;
        }

        private void grow(int more) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, Math.addExact(count, more)));
        }
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
