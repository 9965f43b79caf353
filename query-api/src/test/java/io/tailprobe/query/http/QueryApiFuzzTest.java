package io.tailprobe.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.InMemoryHistogramStore;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 10,000 random and malformed requests against a real server over an in-memory store with data: known
 * and unknown paths, parameters with huge, negative, non-numeric, unicode and badly percent-encoded
 * values, missing, wrong and absurd bearer tokens, other methods. Not one may answer 5xx, and every
 * answer that is not 2xx must be a JSON object with its {@code status} and {@code error}. The generator
 * is seeded, so a failure names a request that fails again.
 */
class QueryApiFuzzTest {
    private static final Logger LOG = LoggerFactory.getLogger(QueryApiFuzzTest.class);
    private static final int REQUESTS = 10_000;
    private static final long SEED = 20_261_123L;
    private static final String TOKEN = "fuzz-token";
    private static final List<String> PARAMETERS = List.of("target", "probe", "protocol", "host", "from", "to",
            "resolution", "step", "quantiles", "phases", "latency", "threshold", "objective", "bucketsPerDecade",
            "format", "limit", "label");
    /** A value each parameter accepts, so that some requests get past validation and read data. */
    private static final Map<String, String> VALID = Map.ofEntries(Map.entry("target", "demo-tcp"),
            Map.entry("probe", "tcp"), Map.entry("protocol", "tcp"), Map.entry("host", "a"),
            Map.entry("from", "2026-11-23T14:00:00Z"), Map.entry("to", "2026-11-23T14:01:40Z"),
            Map.entry("resolution", "10s"), Map.entry("step", "20s"), Map.entry("quantiles", "0.5,0.99"),
            Map.entry("phases", "connect"), Map.entry("latency", "service"), Map.entry("threshold", "10ms"),
            Map.entry("objective", "0.99"), Map.entry("bucketsPerDecade", "5"), Map.entry("format", "base64"),
            Map.entry("limit", "2"), Map.entry("label", "region=eu-west-1"));
    private static final List<String> ODD_VALUES = List.of("", " ", "-1", "0", "-0", "1e309", "NaN", "-Infinity",
            "0x10", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999",
            "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "2026-11-23",
            "99999999999999d", "-5s", "1.5s", "10ms", "0s", "1h30m", "PT10S", "|", "a|b", "=", "==", "a=", "=b",
            ",,,", "0.5,,0.9", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21", "ü", "😀", "\u202eevil",
            "𝕏𝕐ℤ", "日本語", "\t\n", "null", "true", "[]", "{}", "<script>", "' OR 1=1 --", "../../etc/passwd",
            "hlog", "base64", "service", "*");
    private static final List<String> METHODS = List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private int resent;

    @Test
    void ten_thousand_random_and_malformed_requests_get_no_5xx_and_every_error_is_a_json_body() throws Exception {
        SampleTopic topic = new SampleTopic();
        for (int second = 0; second < 30; second++) {
            long scheduledMillis = SampleFleet.windowStartMillis(0) + second * 1_000L;
            topic.send(SampleTopic.sample(SampleFleet.SERIES, "a", scheduledMillis, 20_000_000L), scheduledMillis + 25);
        }
        QueryApiConfig defaults = QueryApiConfig.defaultConfig();
        QueryApiConfig config = new QueryApiConfig(defaults.kafka(), new QueryApiConfig.Http(0, TOKEN, ""),
                defaults.streams(), defaults.maxRange(), defaults.maxSteps(), defaults.maxSeries(), defaults.samples(),
                defaults.metrics()).validate();
        Map<Integer, Integer> byStatus = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        try (QueryApi api = new QueryApi(new SampleFleet().fill(new InMemoryHistogramStore()),
                new KafkaSampleSource(topic::consumer, Duration.ofMinutes(1), Duration.ofSeconds(5)),
                Clock.fixed(Instant.ofEpochMilli(SampleFleet.windowStartMillis(10)), ZoneOffset.UTC), config).start(0)) {
            // a path parameter (the dashboard's /dashboard/{file}) gets a file that exists; mangling does the rest
            List<String> routes = api.getPaths().stream().map(path -> path.replaceAll("\\{[^}]*}", "dashboard.js"))
                    .sorted().toList();
            Random random = new Random(SEED);
            int previousStatus = 0;
            for (int i = 0; i < REQUESTS; i++) {
                String method = random.nextInt(10) == 0 ? METHODS.get(random.nextInt(METHODS.size())) : "GET";
                String target = path(random, routes) + query(random);
                HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + api.port() + target))
                        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30));
                String authorization = authorization(random);
                if (authorization != null) {
                    request.header("Authorization", authorization);
                }
                String described = "#" + i + " " + method + " " + abbreviate(target) + " (Authorization: "
                        + abbreviate(String.valueOf(authorization)) + ")";
                HttpResponse<String> response;
                try {
                    response = send(request.build(), previousStatus);
                } catch (IOException e) {
                    byStatus.merge(0, 1, Integer::sum);
                    failures.add(described + " -> no answer: " + e);
                    continue;
                }
                int status = response.statusCode();
                byStatus.merge(status, 1, Integer::sum);
                previousStatus = status;
                String problem = status >= 500 ? "a server error"
                        : status >= 300 && !method.equals("HEAD") ? notAJsonError(status, response.body()) : null;
                if (problem != null) {
                    failures.add(described + " -> " + status + ", " + problem + ": " + abbreviate(response.body()));
                }
            }
        }
        LOG.info("FUZZ {} requests (seed {}) by status: {}; {} sent again after the server closed the connection; "
                + "failures {}", REQUESTS, SEED, byStatus, resent, failures.size());

        assertThat(failures).as("requests answered 5xx or with an error that is not JSON").isEmpty();
        assertThat(byStatus.keySet()).as("the fuzz reached answers and every kind of refusal")
                .contains(200, 400, 401, 404, 405);
        assertThat(byStatus.get(200)).as("some requests got past validation and read data").isGreaterThan(500);
    }

    /**
     * Sends {@code request}; once more if it met the connection the previous answer closed. Jetty closes
     * the connection after refusing a request line or headers it would not read whole (414, 431) without
     * saying {@code Connection: close}, so the client may pick that connection again; HttpClient sends a
     * GET again by itself, other methods not.
     */
    private HttpResponse<String> send(HttpRequest request, int previousStatus) throws Exception {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            if (previousStatus != 414 && previousStatus != 431) {
                throw e;
            }
            resent++;
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Null when {@code body} is a JSON object whose {@code status} is {@code status} and that names the {@code error}. */
    private String notAJsonError(int status, String body) {
        JsonNode parsed;
        try {
            parsed = json.readTree(body);
        } catch (IOException e) {
            return "not JSON";
        }
        if (parsed == null || !parsed.isObject()) {
            return "not a JSON object";
        }
        if (parsed.path("status").asInt() != status) {
            return "no \"status\": " + status;
        }
        return parsed.path("error").isTextual() ? null : "no \"error\"";
    }

    /** A served route most of the time, else a mangled or made-up one. */
    private static String path(Random random, List<String> routes) {
        String route = routes.get(random.nextInt(routes.size()));
        return switch (random.nextInt(20)) {
            case 0 -> route + "/";
            case 1 -> route.toUpperCase(Locale.ROOT);
            case 2 -> "/" + route;
            case 3 -> route + "/" + encode(oddValue(random));
            case 4 -> "/api/v1/" + encode(oddValue(random));
            case 5 -> "/" + percentBytes(random, 1 + random.nextInt(12));
            case 6 -> "/api/v1/%2e%2e/%2e%2e/metrics";
            case 7 -> "/api/v2/series";
            case 8 -> "/" + "a".repeat(1 + random.nextInt(6_000));
            case 9 -> route.replace("/v1/", "/v1//");
            default -> route;
        };
    }

    /** Zero to six parameters: known names mostly, with valid, odd, long or badly encoded values. */
    private static String query(Random random) {
        int count = random.nextInt(7);
        if (count == 0) {
            return "";
        }
        List<String> pairs = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            String name = random.nextInt(8) == 0 ? encode(oddValue(random)) : PARAMETERS.get(random.nextInt(PARAMETERS.size()));
            String value = switch (random.nextInt(8)) {
                case 0, 1, 2 -> encode(VALID.getOrDefault(name, "x"));
                case 3, 4 -> encode(oddValue(random));
                case 5 -> encode(randomText(random, 1 + random.nextInt(random.nextBoolean() ? 20 : 5_000)));
                case 6 -> percentBytes(random, 1 + random.nextInt(16));
                default -> Long.toString(random.nextLong());
            };
            pairs.add(random.nextInt(30) == 0 ? name : name + "=" + value);
        }
        return "?" + String.join("&", pairs);
    }

    /** The right token mostly, so that validation is reached; else none, a wrong one, another scheme or noise. */
    private static String authorization(Random random) {
        return switch (random.nextInt(20)) {
            case 0, 1 -> null;
            case 2 -> "Bearer wrong-" + random.nextInt(1_000);
            case 3 -> "Basic " + TOKEN;
            case 4 -> "Bearer";
            case 5 -> "Bearer " + TOKEN + "x";
            case 6 -> "Bearer " + asciiNoise(random, 1 + random.nextInt(4_000));
            case 7 -> "bEaReR   " + TOKEN + "   ";
            default -> "Bearer " + TOKEN;
        };
    }

    private static String oddValue(Random random) {
        return ODD_VALUES.get(random.nextInt(ODD_VALUES.size()));
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** Percent-encoded random bytes: invalid UTF-8, NUL, slashes and dots included. */
    private static String percentBytes(Random random, int length) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < length; i++) {
            out.append('%').append(String.format("%02X", random.nextInt(256)));
        }
        return out.toString();
    }

    /** Any code point from ASCII to the astral planes, surrogates left out. */
    private static String randomText(Random random, int length) {
        StringBuilder out = new StringBuilder();
        while (out.length() < length) {
            int codePoint = switch (random.nextInt(4)) {
                case 0 -> 0x20 + random.nextInt(0x5F);
                case 1 -> random.nextInt(0x20);
                case 2 -> 0xA0 + random.nextInt(0xD000);
                default -> 0x10000 + random.nextInt(0x10000);
            };
            out.appendCodePoint(codePoint);
        }
        return out.toString();
    }

    /** Visible ASCII: what a header value may carry. */
    private static String asciiNoise(Random random, int length) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < length; i++) {
            out.append((char) (0x21 + random.nextInt(0x5E)));
        }
        return out.toString();
    }

    private static String abbreviate(String body) {
        return body.length() <= 300 ? body : body.substring(0, 300) + "…";
    }
}
