package io.tailprobe.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.InMemoryHistogramStore;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The served OpenAPI document against the running API: every route described, every documented example accepted. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiDocumentTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private QueryApi api;
    private JsonNode document;

    @BeforeAll
    void start() throws Exception {
        api = new QueryApi(new SampleFleet().fill(new InMemoryHistogramStore()),
                new KafkaSampleSource(new SampleTopic()::consumer, Duration.ofMinutes(1), Duration.ofSeconds(5)),
                Clock.fixed(Instant.ofEpochMilli(SampleFleet.windowStartMillis(10)), ZoneOffset.UTC),
                QueryApiConfig.defaultConfig()).start(0);
        document = json.readTree(get("/openapi.json").body());
    }

    @AfterAll
    void stop() {
        api.close();
    }

    private HttpResponse<String> get(String pathAndQuery) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + api.port() + pathAndQuery)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** An operation's parameters, references resolved, by name: {@code in: query} ones, or {@code in: path} ones. */
    private Map<String, JsonNode> parameters(String path, String in) {
        Map<String, JsonNode> parameters = new LinkedHashMap<>();
        for (JsonNode parameter : document.path("paths").path(path).path("get").path("parameters")) {
            JsonNode resolved = parameter.has("$ref")
                    ? document.at(parameter.get("$ref").asText().substring(1)) : parameter;
            if (resolved.path("in").asText().equals(in)) {
                parameters.put(resolved.get("name").asText(), resolved);
            }
        }
        return parameters;
    }

    /** {@code path} with each path parameter ({@code /dashboard/{file}}) replaced by its documented example. */
    private String withExamples(String path) {
        String filled = path;
        for (Map.Entry<String, JsonNode> parameter : parameters(path, "path").entrySet()) {
            assertThat(parameter.getValue().has("example")).as(path + " " + parameter.getKey()).isTrue();
            filled = filled.replace("{" + parameter.getKey() + "}",
                    URLEncoder.encode(parameter.getValue().get("example").asText(), StandardCharsets.UTF_8));
        }
        return filled;
    }

    private static String query(Map<String, JsonNode> parameters, String leaveOut, String add) {
        List<String> pairs = new ArrayList<>();
        parameters.forEach((name, parameter) -> {
            if (!name.equals(leaveOut) && (parameter.path("required").asBoolean() || name.equals(add))) {
                pairs.add(name + "=" + URLEncoder.encode(parameter.get("example").asText(), StandardCharsets.UTF_8));
            }
        });
        return String.join("&", pairs);
    }

    @Test
    void the_document_is_openapi_3_1_and_describes_exactly_the_served_routes() throws Exception {
        assertThat(document.get("openapi").asText()).isEqualTo("3.1.0");
        assertThat(document.at("/info/title").asText()).isEqualTo("Tailprobe query API");
        Set<String> documented = new TreeSet<>();
        document.get("paths").fieldNames().forEachRemaining(documented::add);

        assertThat(documented).isEqualTo(new TreeSet<>(api.getPaths()));
        List<String> open = documented.stream().filter(QueryApi::isOpen).toList();
        assertThat(open).as("the open paths and the dashboard's files").containsAll(QueryApi.OPEN_PATHS)
                .contains("/dashboard/{file}");
        for (String path : open) {
            assertThat(document.at("/paths/" + path.replace("~", "~0").replace("/", "~1") + "/get/security")).as(path)
                    .isEmpty();
        }
    }

    @Test
    void every_documented_parameter_has_an_example_the_api_accepts() throws Exception {
        for (String path : api.getPaths()) {
            Map<String, JsonNode> parameters = parameters(path, "query");
            HttpResponse<String> bare = get(withExamples(path) + "?" + query(parameters, null, null));
            assertThat(bare.statusCode()).as(path + ": " + bare.body()).isEqualTo(200);
            for (Map.Entry<String, JsonNode> parameter : parameters.entrySet()) {
                assertThat(parameter.getValue().has("example")).as(path + " " + parameter.getKey()).isTrue();
                HttpResponse<String> response = get(withExamples(path) + "?" + query(parameters, null, parameter.getKey()));
                assertThat(response.statusCode()).as(path + " with " + parameter.getKey() + ": " + response.body())
                        .isEqualTo(200);
            }
        }
    }

    @Test
    void leaving_out_a_required_parameter_answers_400_naming_it() throws Exception {
        int required = 0;
        for (String path : api.getPaths()) {
            Map<String, JsonNode> parameters = parameters(path, "query");
            for (Map.Entry<String, JsonNode> parameter : parameters.entrySet()) {
                if (parameter.getValue().path("required").asBoolean()) {
                    required++;
                    HttpResponse<String> response = get(withExamples(path) + "?" + query(parameters, parameter.getKey(),
                            null));
                    assertThat(response.statusCode()).as(path + " without " + parameter.getKey()).isEqualTo(400);
                    assertThat(json.readTree(response.body()).get("parameter").asText()).isEqualTo(parameter.getKey());
                }
            }
        }
        assertThat(required).as("target and probe of the six latency endpoints, and slo's threshold").isEqualTo(13);
    }
}
