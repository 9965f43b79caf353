package io.tailprobe.query.store.routing;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;

/**
 * What instances of the query API send each other: the routes, and the bodies. Windows travel as the
 * very bytes of {@code latency.histograms} (each {@link Topics#histogramSerde()}'s single-object
 * encoding behind its 4-byte big-endian length), so the instance that asked adds up exactly the
 * histograms the owner holds, and its answer is the owner's, byte for byte. Series travel as JSON.
 */
public final class PeerWire {
    /** {@code ?target=&probe=&protocol=&host=&resolution=<seconds>&from=<ms>&to=<ms>}: the windows of one series. */
    public static final String WINDOWS_PATH = "/internal/v1/windows";
    /** {@code [?target=]}: the series index of the partitions the instance holds. */
    public static final String SERIES_PATH = "/internal/v1/series";
    /** Every route under this prefix is answered from the instance's own partitions and never forwarded. */
    public static final String INTERNAL_PREFIX = "/internal/";
    public static final String WINDOWS_CONTENT_TYPE = "application/vnd.tailprobe.windows";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<SeriesInfo>> SERIES_LIST = new TypeReference<>() {};

    private PeerWire() {}

    public static byte[] encodeWindows(List<WindowedHistogram> windows) {
        List<byte[]> encoded = new ArrayList<>(windows.size());
        int size = 0;
        for (WindowedHistogram window : windows) {
            byte[] bytes = Topics.histogramSerde().encode(window);
            encoded.add(bytes);
            size += Integer.BYTES + bytes.length;
        }
        ByteBuffer body = ByteBuffer.allocate(size);
        encoded.forEach(bytes -> body.putInt(bytes.length).put(bytes));
        return body.array();
    }

    /** @throws IllegalArgumentException when the body is cut short or a window cannot be decoded */
    public static List<WindowedHistogram> decodeWindows(byte[] body) {
        ByteBuffer buffer = ByteBuffer.wrap(body);
        List<WindowedHistogram> windows = new ArrayList<>();
        try {
            while (buffer.hasRemaining()) {
                byte[] bytes = new byte[buffer.getInt()];
                buffer.get(bytes);
                windows.add(Topics.histogramSerde().decode(bytes));
            }
        } catch (BufferUnderflowException | NegativeArraySizeException | SerializationException e) {
            throw new IllegalArgumentException("windows body of " + body.length + " bytes is cut short or corrupt", e);
        }
        return windows;
    }

    public static byte[] encodeSeries(List<SeriesInfo> series) {
        try {
            return JSON.writeValueAsBytes(series);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @throws IllegalArgumentException when the body is not a JSON list of series */
    public static List<SeriesInfo> decodeSeries(byte[] body) {
        try {
            return JSON.readValue(body, SERIES_LIST);
        } catch (IOException e) {
            throw new IllegalArgumentException("series body is not a JSON list of series: " + e.getMessage(), e);
        }
    }
}
