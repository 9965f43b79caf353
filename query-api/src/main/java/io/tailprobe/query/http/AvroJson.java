package io.tailprobe.query.http;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;

/**
 * An Avro record as plain JSON values, field by field in schema order, so a field added to
 * {@code LatencySample} shows up in the raw-sample stream without code here: strings and enum symbols
 * as strings, nested records as objects, maps as objects sorted by key, bytes in base64, a null union
 * as null (not Avro's {@code {"long": 5}} wrapping). Example: {@code {"host":"web-17","target":"db",…,
 * "outcome":"OK","phases":{"dnsNanos":null,"connectNanos":212000,…},"labels":{"region":"eu-west-1"}}}.
 */
final class AvroJson {
    private AvroJson() {}

    static Map<String, Object> of(IndexedRecord record) {
        Map<String, Object> json = new LinkedHashMap<>();
        for (Schema.Field field : record.getSchema().getFields()) {
            json.put(field.name(), value(record.get(field.pos())));
        }
        return json;
    }

    private static Object value(Object value) {
        return switch (value) {
            case null -> null;
            case IndexedRecord nested -> of(nested);
            case CharSequence text -> text.toString();
            case Enum<?> symbol -> symbol.name();
            case ByteBuffer bytes -> Base64.getEncoder().encodeToString(toArray(bytes));
            case Map<?, ?> map -> {
                Map<String, Object> sorted = new TreeMap<>();
                map.forEach((key, entry) -> sorted.put(key.toString(), value(entry)));
                yield sorted;
            }
            case List<?> list -> {
                List<Object> converted = new ArrayList<>(list.size());
                list.forEach(element -> converted.add(value(element)));
                yield converted;
            }
            default -> value; // numbers and booleans
        };
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
