package io.tailprobe.query.store.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Reads windows and series from other instances of the query API over HTTP ({@link PeerWire}'s
 * internal routes, which answer from the instance's own partitions and never forward again). Sends the
 * bearer token the instances share ({@code http.bearerToken}, the very token every request to this
 * instance had to carry), and gives up after {@code timeout}: an owner that is unreachable, slow or
 * not answering (rebalancing, restoring) makes the query fail with {@link StoreUnavailableException},
 * which the API answers with 503.
 *
 * <p>Example: {@code windows(new HostInfo("10.0.0.8", 8080), new SeriesKey("db", "tcp", "tcp"), "*", 3600,
 * from, to)} GETs {@code http://10.0.0.8:8080/internal/v1/windows?target=db&probe=tcp&protocol=tcp&host=*&resolution=3600&from=…&to=…}.
 */
public final class PeerClient implements AutoCloseable {
    private final HttpClient http;
    private final String authorization;
    private final Duration timeout;

    /** @param bearerToken sent as {@code Authorization: Bearer <token>}; empty sends none */
    public PeerClient(String bearerToken, Duration timeout) {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
        this.authorization = bearerToken.isEmpty() ? null : "Bearer " + bearerToken;
        this.timeout = timeout;
    }

    /** The windows {@code owner} holds of one series, host and resolution in {@code [fromMillis, toMillisExclusive)}. */
    public List<WindowedHistogram> windows(HostInfo owner, SeriesKey series, String host, int resolutionSeconds,
                                           long fromMillis, long toMillisExclusive) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("target", series.target());
        query.put("probe", series.probeType());
        query.put("protocol", series.protocol());
        query.put("host", host);
        query.put("resolution", Integer.toString(resolutionSeconds));
        query.put("from", Long.toString(fromMillis));
        query.put("to", Long.toString(toMillisExclusive));
        return join(get(owner, PeerWire.WINDOWS_PATH, query, PeerWire::decodeWindows));
    }

    /** The series index of the partitions {@code instance} holds, of one target or (null) of all. */
    public CompletableFuture<List<SeriesInfo>> series(HostInfo instance, String target) {
        return get(instance, PeerWire.SERIES_PATH, target == null ? Map.of() : Map.of("target", target),
                PeerWire::decodeSeries);
    }

    /** The value of a future from {@link #series}, or its {@link StoreUnavailableException}. */
    public static <T> T join(CompletableFuture<T> answer) {
        try {
            return answer.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof StoreUnavailableException unavailable) {
                throw unavailable;
            }
            throw e;
        }
    }

    private <T> CompletableFuture<T> get(HostInfo instance, String path, Map<String, String> query,
                                         Function<byte[], T> decode) {
        String url = "http://" + instance.host() + ":" + instance.port() + path + (query.isEmpty() ? "" : "?"
                + query.entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&")));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((response, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                throw new StoreUnavailableException("the instance " + address(instance) + " holding the data did not answer"
                        + " within " + timeout.toMillis() + " ms: " + describe(cause), cause);
            }
            if (response.statusCode() != 200) {
                throw new StoreUnavailableException("the instance " + address(instance) + " holding the data answered "
                        + response.statusCode() + ": " + message(response.body()));
            }
            try {
                return decode.apply(response.body());
            } catch (IllegalArgumentException e) {
                throw new StoreUnavailableException("the instance " + address(instance) + " sent an unreadable answer: "
                        + e.getMessage(), e);
            }
        });
    }

    /** {@code host:port}, as {@code streams.applicationServer} names it. */
    static String address(HostInfo instance) {
        return instance.host() + ":" + instance.port();
    }

    private static String describe(Throwable failure) {
        return failure.getMessage() == null ? failure.getClass().getSimpleName()
                : failure.getClass().getSimpleName() + " " + failure.getMessage();
    }

    /** The {@code message} of an error body of the API, else the body itself, cut to 200 characters. */
    private static String message(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        try {
            JsonNode error = new ObjectMapper().readTree(text);
            if (error != null && error.hasNonNull("message")) {
                text = error.get("message").asText();
            }
        } catch (IOException e) {
            // not JSON: the text as it is
        }
        return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    @Override
    public void close() {
        http.close();
    }
}
