package io.tailprobe.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Who may call the API and from where: the bearer token, CORS, and that no method can change stored data. */
class QueryApiAccessTest {
    private static final String TOKEN = "s3cr3t-token";
    private static final List<String> API_PATHS = List.of("/api/v1/series", "/api/v1/percentiles", "/api/v1/timeseries",
            "/api/v1/heatmap", "/api/v1/slo", "/api/v1/histogram", "/api/v1/samples", "/metrics");
    private static final String QUERY = "?target=demo-tcp&probe=tcp&threshold=10ms&from=2026-11-23T14:00:00Z"
            + "&to=2026-11-23T14:01:40Z";

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private final InMemoryHistogramStore store = new SampleFleet().fill(new InMemoryHistogramStore());
    private final KafkaSampleSource samples = new KafkaSampleSource(new SampleTopic()::consumer, Duration.ofMinutes(1),
            Duration.ofSeconds(5));

    private QueryApi start(String bearerToken, String corsOrigins) {
        QueryApiConfig defaults = QueryApiConfig.defaultConfig();
        QueryApiConfig config = new QueryApiConfig(defaults.kafka(), new QueryApiConfig.Http(0, bearerToken, corsOrigins),
                defaults.streams(), defaults.maxRange(), defaults.maxSteps(), 2, defaults.samples(), defaults.metrics());
        return new QueryApi(store, samples, Clock.fixed(Instant.ofEpochMilli(SampleFleet.windowStartMillis(10)),
                ZoneOffset.UTC), config.validate()).start(0);
    }

    private HttpResponse<String> send(QueryApi api, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + api.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The routes the running server registered, enumerated from Javalin's router rather than from a list
     * kept by hand, so a route added later is held to the token too; path parameters get a value.
     */
    private static List<String> servedRoutes(QueryApi api) {
        return api.getPaths().stream().map(path -> path.replaceAll("\\{[^}]*}|<[^>]*>", "x")).sorted().toList();
    }

    @Test
    void with_a_token_configured_every_served_route_but_the_open_ones_answers_401_without_it_and_200_with_it()
            throws Exception {
        try (QueryApi api = start(TOKEN, "")) {
            List<String> routes = servedRoutes(api);
            List<String> guarded = routes.stream().filter(path -> !QueryApi.isOpen(path)).toList();
            assertThat(routes).as("the open routes are served").containsAll(QueryApi.OPEN_PATHS);
            assertThat(routes).as("the dashboard's files are served").contains("/dashboard/x");
            assertThat(guarded).as("every data endpoint is among the guarded routes").containsAll(API_PATHS);
            for (String path : guarded) {
                HttpResponse<String> missing = send(api, "GET", path + QUERY);
                assertThat(missing.statusCode()).as(path).isEqualTo(401);
                assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"tailprobe\"");
                JsonNode body = json.readTree(missing.body());
                assertThat(body.get("status").asInt()).isEqualTo(401);
                assertThat(body.get("message").asText()).isEqualTo("this API needs Authorization: Bearer <token>");

                for (String wrong : List.of("Bearer nope", "Bearer " + TOKEN + "x", "Basic " + TOKEN, "Bearer")) {
                    HttpResponse<String> refused = send(api, "GET", path + QUERY, "Authorization", wrong);
                    assertThat(refused.statusCode()).as(path + " with " + wrong).isEqualTo(401);
                    assertThat(refused.headers().firstValue("WWW-Authenticate"))
                            .hasValue("Bearer realm=\"tailprobe\", error=\"invalid_token\"");
                }

                assertThat(send(api, "GET", path + QUERY, "Authorization", "Bearer " + TOKEN).statusCode()).as(path)
                        .isEqualTo(200);
            }
            assertThat(send(api, "GET", "/api/v1/series", "Authorization", "bearer " + TOKEN).statusCode())
                    .as("the scheme is case-insensitive").isEqualTo(200);
            for (String open : QueryApi.OPEN_PATHS) {
                assertThat(send(api, "GET", open).statusCode()).as(open + " is open by design").isEqualTo(200);
            }
            assertThat(send(api, "GET", "/dashboard/dashboard.js").statusCode()).as("the dashboard's files are open")
                    .isEqualTo(200);
            assertThat(send(api, "GET", "/dashboard/x").statusCode()).as("an unknown one is not found, not refused")
                    .isEqualTo(404);
            assertThat(send(api, "GET", "/dashboardx").statusCode()).as("only under the prefix: not served, not refused")
                    .isEqualTo(404);
        }
    }

    @Test
    void without_a_token_configured_no_request_needs_one() throws Exception {
        try (QueryApi api = start("", "")) {
            for (String path : API_PATHS) {
                assertThat(send(api, "GET", path + QUERY).statusCode()).as(path).isEqualTo(200);
            }
        }
    }

    @Test
    void cors_headers_go_to_configured_origins_only_and_a_preflight_passes_without_a_token() throws Exception {
        try (QueryApi api = start(TOKEN, "https://grafana.example.com, https://ops.example.com")) {
            HttpResponse<String> allowed = send(api, "GET", "/api/v1/series", "Origin", "https://ops.example.com",
                    "Authorization", "Bearer " + TOKEN);
            assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://ops.example.com");
            assertThat(allowed.headers().firstValue("Access-Control-Expose-Headers").orElse(""))
                    .contains("X-Total-Count");

            HttpResponse<String> other = send(api, "GET", "/api/v1/series", "Origin", "https://evil.example.com",
                    "Authorization", "Bearer " + TOKEN);
            assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();

            HttpResponse<String> preflight = send(api, "OPTIONS", "/api/v1/percentiles", "Origin",
                    "https://grafana.example.com", "Access-Control-Request-Method", "GET",
                    "Access-Control-Request-Headers", "authorization");
            assertThat(preflight.statusCode()).isEqualTo(200);
            assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://grafana.example.com");
            assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers")).hasValue("authorization");
        }
        try (QueryApi api = start("", "")) {
            assertThat(send(api, "GET", "/api/v1/series", "Origin", "https://ops.example.com").headers()
                    .firstValue("Access-Control-Allow-Origin")).as("CORS off by default").isEmpty();
        }
        try (QueryApi api = start("", "*")) {
            assertThat(send(api, "GET", "/api/v1/series", "Origin", "https://any.example.com").headers()
                    .firstValue("Access-Control-Allow-Origin")).hasValue("*");
        }
    }

    @ParameterizedTest(name = "{0} on every path")
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH"})
    void no_method_but_get_is_served_and_the_stored_data_stays_as_it_was(String method) throws Exception {
        List<WindowedHistogram> before = store.windows(SampleFleet.SERIES, HistogramKey.FLEET, 10, 0, Long.MAX_VALUE);
        List<SeriesInfo> seriesBefore = store.series();
        try (QueryApi api = start("", "")) {
            for (String path : servedRoutes(api)) {
                HttpResponse<String> response = send(api, method, path + QUERY);
                assertThat(response.statusCode()).as(method + " " + path).isEqualTo(405);
                assertThat(json.readTree(response.body()).get("status").asInt()).isEqualTo(405);
            }
        }
        assertThat(store.windows(SampleFleet.SERIES, HistogramKey.FLEET, 10, 0, Long.MAX_VALUE)).isEqualTo(before);
        assertThat(store.series()).isEqualTo(seriesBefore);
    }

    @Test
    void a_series_listing_stops_at_max_series_or_the_limit_and_says_how_many_matched() throws Exception {
        try (QueryApi api = start("", "")) {
            HttpResponse<String> capped = send(api, "GET", "/api/v1/series");
            assertThat(json.readTree(capped.body())).hasSize(2);
            assertThat(capped.headers().firstValue("X-Total-Count")).hasValue("4");
            assertThat(json.readTree(send(api, "GET", "/api/v1/series?limit=1").body())).hasSize(1);
            HttpResponse<String> tooMany = send(api, "GET", "/api/v1/series?limit=3");
            assertThat(tooMany.statusCode()).isEqualTo(400);
            assertThat(json.readTree(tooMany.body()).get("rule").asText()).isEqualTo("must be a whole number in [1, 2]");
        }
    }
}
