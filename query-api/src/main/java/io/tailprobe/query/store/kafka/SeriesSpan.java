package io.tailprobe.query.store.kafka;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The value of the series index: the start of the first and last stored window of one series, host
 * and resolution, e.g. 14:00:00.000 and 14:59:50.000 UTC. Stored as two big-endian longs (16 bytes).
 */
record SeriesSpan(long firstWindowStartMillis, long lastWindowStartMillis) {
    static final int ENCODED_BYTES = 2 * Long.BYTES;

    SeriesSpan including(long windowStartMillis) {
        return new SeriesSpan(Math.min(firstWindowStartMillis, windowStartMillis),
                Math.max(lastWindowStartMillis, windowStartMillis));
    }

    static Serde<SeriesSpan> serde() {
        Serializer<SeriesSpan> serializer = (topic, span) -> span == null ? null
                : ByteBuffer.allocate(ENCODED_BYTES).putLong(span.firstWindowStartMillis())
                        .putLong(span.lastWindowStartMillis()).array();
        Deserializer<SeriesSpan> deserializer = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            if (bytes.length != ENCODED_BYTES) {
                throw new SerializationException("a series span is " + ENCODED_BYTES + " bytes, got " + bytes.length);
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            return new SeriesSpan(buffer.getLong(), buffer.getLong());
        };
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
}
