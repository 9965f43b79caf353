package io.tailprobe.query.store.kafka;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The value of the series index: the start of the first and last stored window of one series, host
 * and resolution, e.g. 14:00:00.000 and 14:59:50.000 UTC, and the labels of the last one. Stored as
 * two big-endian longs (16 bytes), then, when there are labels, their count and each key and value
 * as a length-prefixed UTF-8 string; an entry of exactly 16 bytes (written before labels existed)
 * reads as having none.
 */
record SeriesSpan(long firstWindowStartMillis, long lastWindowStartMillis, Map<String, String> labels) {
    static final int SPAN_BYTES = 2 * Long.BYTES;

    SeriesSpan {
        labels = Map.copyOf(labels);
    }

    /** Widened to {@code windowStartMillis}; the labels are those of the latest window. */
    SeriesSpan including(long windowStartMillis, Map<String, String> windowLabels) {
        return new SeriesSpan(Math.min(firstWindowStartMillis, windowStartMillis),
                Math.max(lastWindowStartMillis, windowStartMillis),
                windowStartMillis >= lastWindowStartMillis ? windowLabels : labels);
    }

    static Serde<SeriesSpan> serde() {
        Serializer<SeriesSpan> serializer = (topic, span) -> span == null ? null : encode(span);
        Deserializer<SeriesSpan> deserializer = (topic, bytes) -> bytes == null ? null : decode(bytes);
        return new Serde<>() {
            @Override
            public Serializer<SeriesSpan> serializer() {
                return serializer;
            }

            @Override
            public Deserializer<SeriesSpan> deserializer() {
                return deserializer;
            }
        };
    }

    private static byte[] encode(SeriesSpan span) {
        List<byte[]> strings = new ArrayList<>();
        new TreeMap<>(span.labels()).forEach((key, value) -> {
            strings.add(key.getBytes(StandardCharsets.UTF_8));
            strings.add(value.getBytes(StandardCharsets.UTF_8));
        });
        int size = SPAN_BYTES + (strings.isEmpty() ? 0 : Integer.BYTES);
        for (byte[] string : strings) {
            size += Integer.BYTES + string.length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size).putLong(span.firstWindowStartMillis())
                .putLong(span.lastWindowStartMillis());
        if (!strings.isEmpty()) {
            buffer.putInt(strings.size() / 2);
            strings.forEach(string -> buffer.putInt(string.length).put(string));
        }
        return buffer.array();
    }

    private static SeriesSpan decode(byte[] bytes) {
        if (bytes.length < SPAN_BYTES) {
            throw new SerializationException("a series span is at least " + SPAN_BYTES + " bytes, got " + bytes.length);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        long first = buffer.getLong();
        long last = buffer.getLong();
        Map<String, String> labels = new TreeMap<>();
        try {
            int count = buffer.hasRemaining() ? buffer.getInt() : 0;
            for (int i = 0; i < count; i++) {
                labels.put(string(buffer), string(buffer));
            }
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new SerializationException("a series span's labels are cut short or corrupt (" + bytes.length
                    + " bytes)", e);
        }
        if (buffer.hasRemaining()) {
            throw new SerializationException("a series span has " + buffer.remaining() + " bytes after its labels");
        }
        return new SeriesSpan(first, last, labels);
    }

    private static String string(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getInt()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
