package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.SchemaNormalization;

/**
 * Reads the {@link SampleFields} of a sample record straight from its bytes when the record is written
 * with this build's {@link LatencySample} schema, skipping the fields the aggregator does not read
 * (address, sequence, error detail, ...). Avro's decoder builds a {@code LatencySample} with nine Strings
 * and a HashMap per record, which was a third of the aggregator's processing. Here names come from a
 * cache of canonical Strings keyed by their bytes, and labels as one read-only map per distinct encoding,
 * so the next sample of a host allocates nothing, and its host and labels compare by identity.
 *
 * <p>Anything else is left to Avro's decoder ({@link #read} returns false): another writer schema, a
 * truncated or over-long body, a union or enum index out of range, a negative block count. That decoder
 * then accepts the record or says why not, so this reader accepts nothing Avro would reject, and the dead
 * letters and their reasons are Avro's.
 */
final class SampleReader {
    /** Avro's single-object encoding: marker C3 01, then the writer schema's fingerprint, little-endian. */
    private static final int HEADER_BYTES = 10;
    private static final long FINGERPRINT = SchemaNormalization.parsingFingerprint64(LatencySample.getClassSchema());
    private static final Outcome[] OUTCOMES = Outcome.values();
    /** Thrown for anything this reader leaves to Avro's decoder; no stack trace, one instance. */
    private static final RuntimeException NOT_FAST = new RuntimeException("left to Avro's decoder", null, false, false) {};

    private final BytesCache<String> names = new BytesCache<>();
    private final BytesCache<Map<String, String>> labelMaps = new BytesCache<>();
    private byte[] bytes;
    private int position;

    /**
     * Fills {@code into} from {@code value} when it is a well-formed record of this build's schema.
     *
     * @return false when the record must go to Avro's decoder; {@code into} is then partly overwritten
     */
    boolean read(byte[] value, SampleFields into) {
        if (value == null || value.length < HEADER_BYTES || value[0] != (byte) 0xC3 || value[1] != (byte) 0x01
                || fingerprint(value) != FINGERPRINT) {
            return false;
        }
        bytes = value;
        position = HEADER_BYTES;
        try {
            into.host = name();
            into.target = name();
            skipString(); // address
            into.probeType = name();
            into.protocol = name();
            into.scheduledStartMicros = readLong();
            readLong(); // actualStartMicros
            into.serviceTimeNanos = readLong();
            into.responseTimeNanos = readLong();
            into.outcome = OUTCOMES[index(OUTCOMES.length)];
            into.phasesPresent = 0;
            if (index(2) == 1) {
                for (int phase = 0; phase < into.phaseNanos.length; phase++) {
                    if (index(2) == 1) {
                        into.phaseNanos[phase] = readLong();
                        into.phasesPresent |= 1 << phase;
                    }
                }
            }
            if (index(2) == 1) { // connectionReused
                int flag = next();
                if (flag != 0 && flag != 1) {
                    throw NOT_FAST;
                }
            }
            if (index(2) == 1) { // statusCode
                readInt();
            }
            readLong(); // sequence
            if (index(2) == 1) { // errorDetail
                skipString();
            }
            for (int i = 0; i < 4; i++) { // answerCount, packetsSent, packetsReceived, packetsReordered
                if (index(2) == 1) {
                    readInt();
                }
            }
            if (index(2) == 1) { // tlsCertNotAfterMillis
                readLong();
            }
            into.labels = labels();
            if (position != bytes.length) {
                throw NOT_FAST; // bytes left after the record
            }
            return true;
        } catch (RuntimeException e) {
            if (e != NOT_FAST && !(e instanceof ArrayIndexOutOfBoundsException)) {
                throw e;
            }
            return false;
        } finally {
            bytes = null;
        }
    }

    private static long fingerprint(byte[] value) {
        long fingerprint = 0;
        for (int i = HEADER_BYTES - 1; i >= 2; i--) {
            fingerprint = fingerprint << 8 | (value[i] & 0xff);
        }
        return fingerprint;
    }

    private int next() {
        return bytes[position++] & 0xff; // past the end: ArrayIndexOutOfBoundsException, caught in read
    }

    /** Avro's zig-zag varint long; more than ten bytes is malformed. */
    private long readLong() {
        return zigZag(varint(10));
    }

    /** Avro's zig-zag varint int (also union branches and enum symbols); more than five bytes is malformed. */
    private int readInt() {
        long n = zigZag(varint(5));
        if (n != (int) n) {
            throw NOT_FAST; // Avro keeps the low 32 bits; such a record is not worth a fast path
        }
        return (int) n;
    }

    private long varint(int maxBytes) {
        int b = next();
        long n = b & 0x7f;
        for (int shift = 7; b > 0x7f; shift += 7) {
            if (shift >= 7 * maxBytes) {
                throw NOT_FAST;
            }
            b = next();
            n |= (long) (b & 0x7f) << shift;
        }
        return n;
    }

    private static long zigZag(long n) {
        return (n >>> 1) ^ -(n & 1);
    }

    /** A union branch or enum symbol index, below {@code count}. */
    private int index(int count) {
        int n = readInt();
        if (n < 0 || n >= count) {
            throw NOT_FAST;
        }
        return n;
    }

    /** The length of the string or map block that follows, checked against the bytes left. */
    private int length() {
        long n = readLong();
        if (n < 0 || n > bytes.length - position) {
            throw NOT_FAST;
        }
        return (int) n;
    }

    private void skipString() {
        int length = length(); // not "position += length()": that reads position before length() moves it
        position += length;
    }

    private String name() {
        int length = length();
        int from = position;
        position += length;
        String name = names.get(bytes, from, length);
        if (name == null) {
            name = new String(bytes, from, length, StandardCharsets.UTF_8);
            names.put(bytes, from, length, name);
        }
        return name;
    }

    /** The labels map: found by its encoded bytes, or read and kept for the next sample that has them. */
    private Map<String, String> labels() {
        int from = position;
        for (long count = readLong(); count != 0; count = readLong()) {
            if (count < 0) {
                throw NOT_FAST; // a block with its size in bytes: Avro's writer never writes one here
            }
            for (long i = 0; i < 2 * count; i++) {
                skipString();
            }
        }
        Map<String, String> labels = labelMaps.get(bytes, from, position - from);
        if (labels == null) {
            int end = position;
            position = from;
            Map<String, String> read = new HashMap<>();
            for (long count = readLong(); count != 0; count = readLong()) {
                for (long i = 0; i < count; i++) {
                    read.put(name(), name());
                }
            }
            position = end;
            labels = read.isEmpty() ? Map.of() : Collections.unmodifiableMap(read);
            labelMaps.put(bytes, from, end - from, labels);
        }
        return labels;
    }

    /**
     * An open-addressing map from byte ranges to values, for names and label maps, which repeat with
     * every sample of a host. Bounded: at {@link #MAX_ENTRIES} it starts over, so a stream of distinct
     * names costs no more memory than that, only speed.
     */
    static final class BytesCache<V> {
        private static final int MAX_ENTRIES = 1 << 16;
        private byte[][] keys = new byte[64][];
        private Object[] values = new Object[64];
        private int[] hashes = new int[64];
        private int size;

        @SuppressWarnings("unchecked")
        V get(byte[] source, int from, int length) {
            int hash = hash(source, from, length);
            int mask = keys.length - 1;
            for (int slot = hash & mask; keys[slot] != null; slot = (slot + 1) & mask) {
                if (hashes[slot] == hash && Arrays.equals(keys[slot], 0, keys[slot].length, source, from, from + length)) {
                    return (V) values[slot];
                }
            }
            return null;
        }

        /** Adds a value for a range not in the cache. */
        void put(byte[] source, int from, int length, V value) {
            if (size + 1 > keys.length / 2) {
                if (keys.length * 2 > 2 * MAX_ENTRIES) {
                    keys = new byte[keys.length][];
                    values = new Object[keys.length];
                    hashes = new int[keys.length];
                    size = 0;
                } else {
                    grow();
                }
            }
            insert(Arrays.copyOfRange(source, from, from + length), hash(source, from, length), value);
        }

        int size() {
            return size;
        }

        private void grow() {
            byte[][] oldKeys = keys;
            Object[] oldValues = values;
            int[] oldHashes = hashes;
            keys = new byte[oldKeys.length * 2][];
            values = new Object[keys.length];
            hashes = new int[keys.length];
            size = 0;
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldKeys[i] != null) {
                    insert(oldKeys[i], oldHashes[i], oldValues[i]);
                }
            }
        }

        private void insert(byte[] key, int hash, Object value) {
            int mask = keys.length - 1;
            int slot = hash & mask;
            while (keys[slot] != null) {
                slot = (slot + 1) & mask;
            }
            keys[slot] = key;
            hashes[slot] = hash;
            values[slot] = value;
            size++;
        }

        private static int hash(byte[] source, int from, int length) {
            int hash = length;
            for (int i = from; i < from + length; i++) {
                hash = 31 * hash + source[i];
            }
            return hash ^ (hash >>> 16);
        }
    }
}
