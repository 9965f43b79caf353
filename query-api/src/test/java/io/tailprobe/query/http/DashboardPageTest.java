package io.tailprobe.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.InMemoryHistogramStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard as a real server serves it: the page and every file it references, with their content
 * types and cache headers, nothing from another origin, and all of it open while the API behind it
 * needs a bearer token. What the page draws is {@code DashboardBrowserTest}'s (standalone) part.
 */
class DashboardPageTest {
    private static final String TOKEN = "dashboard-token";
    /** What the page loads: {@code src="…"} and {@code href="…"}. */
    private static final Pattern REFERENCE = Pattern.compile("\\b(?:src|href)=\"([^\"]*)\"");
    /** A URL naming its own scheme and host, or a protocol-relative one. */
    private static final Pattern EXTERNAL = Pattern.compile("(?i)\\bhttps?://|[\"'(]//[a-z0-9]");

    private final HttpClient http = HttpClient.newHttpClient();
    private QueryApi api;

    private QueryApi start(String bearerToken) {
        QueryApiConfig defaults = QueryApiConfig.defaultConfig();
        QueryApiConfig config = new QueryApiConfig(defaults.kafka(), new QueryApiConfig.Http(0, bearerToken, ""),
                defaults.streams(), defaults.maxRange(), defaults.maxSteps(), defaults.maxSeries(), defaults.samples(),
                defaults.metrics()).validate();
        api = new QueryApi(new SampleFleet().fill(new InMemoryHistogramStore()),
                new KafkaSampleSource(new SampleTopic()::consumer, Duration.ofMinutes(1), Duration.ofSeconds(5)),
                Clock.fixed(Instant.ofEpochMilli(SampleFleet.windowStartMillis(10)), ZoneOffset.UTC), config).start(0);
        return api;
    }

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + api.port() + path));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The Content-Type as Jetty writes it, spaces left out: {@code text/css;charset=utf-8}. */
    private static String contentType(HttpResponse<String> response) {
        return response.headers().firstValue("Content-Type").orElse("").replace(" ", "").toLowerCase(Locale.ROOT);
    }

    private static List<String> references(String html) {
        List<String> references = new ArrayList<>();
        Matcher m = REFERENCE.matcher(html);
        while (m.find()) {
            references.add(m.group(1));
        }
        return references;
    }

    @Test
    void the_page_and_every_file_it_references_are_served_with_their_content_types() throws Exception {
        start("");
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(contentType(page)).isEqualTo("text/html;charset=utf-8");
        assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-cache");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("default-src 'self'", "connect-src 'self'");
        assertThat(page.body()).contains("<title>Tailprobe</title>", "id=\"chart-percentiles\"", "id=\"heatmap\"");

        List<String> files = references(page.body()).stream().filter(reference -> !reference.startsWith("data:")).toList();
        assertThat(files).as("scripts and styles, each named with a hash of its bytes").hasSize(4)
                .allMatch(file -> file.matches("dashboard/[A-Za-z.]+\\?v=[0-9a-f]{12}"));
        for (String file : files) {
            HttpResponse<String> asset = get("/" + file);
            assertThat(asset.statusCode()).as(file).isEqualTo(200);
            assertThat(contentType(asset)).as(file).isEqualTo(file.contains(".js?")
                    ? "text/javascript;charset=utf-8" : "text/css;charset=utf-8");
            assertThat(asset.headers().firstValue("Cache-Control")).as(file + ", named by its hash")
                    .hasValue("public, max-age=31536000, immutable");
            assertThat(asset.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(asset.body()).as(file).hasSizeGreaterThan(1_000);
        }
        assertThat(get("/dashboard/uPlot.iife.min.js").body()).as("uPlot, from its WebJar").contains("uPlot");
    }

    @Test
    void nothing_is_loaded_from_another_origin() throws Exception {
        start("");
        String page = get("/").body();
        assertThat(page).doesNotContainPattern(EXTERNAL);
        for (String file : references(page)) {
            if (file.startsWith("data:")) {
                continue;
            }
            // uPlot's only URL is its licence comment's link to its repository: comments are not loaded
            String code = get("/" + file).body().replaceAll("(?s)/\\*.*?\\*/", "");
            assertThat(code).as(file).doesNotContainPattern(EXTERNAL);
        }
    }

    @Test
    void an_unchanged_file_is_not_sent_again_and_an_unhashed_one_is_revalidated() throws Exception {
        start("");
        HttpResponse<String> first = get("/dashboard/dashboard.js");
        assertThat(first.headers().firstValue("Cache-Control")).hasValue("no-cache");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).matches("\"[0-9a-f]{12}\"");
        HttpResponse<String> again = get("/dashboard/dashboard.js", "If-None-Match", etag);
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        String pageEtag = get("/").headers().firstValue("ETag").orElseThrow();
        assertThat(get("/", "If-None-Match", pageEtag).statusCode()).isEqualTo(304);
        assertThat(get("/dashboard/dashboard.js?v=000000000000").headers().firstValue("Cache-Control"))
                .as("an old hash").hasValue("no-cache");
    }

    @Test
    void an_unknown_file_is_a_json_404_naming_the_files_there_are() throws Exception {
        start("");
        HttpResponse<String> missing = get("/dashboard/secret.properties");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"parameter\":\"file\"", "\"value\":\"secret.properties\"",
                "dashboard.js");
        assertThat(get("/dashboard/..%2F..%2Fopenapi.yaml").statusCode()).isEqualTo(404);
        assertThat(get("/dashboard/index.html").statusCode()).as("the page is served at / only").isEqualTo(404);
    }

    @Test
    void with_a_token_configured_the_page_and_its_files_stay_open_while_the_api_answers_401() throws Exception {
        start(TOKEN);
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        for (String file : references(page.body())) {
            if (!file.startsWith("data:")) {
                assertThat(get("/" + file).statusCode()).as(file).isEqualTo(200);
            }
        }
        assertThat(get("/api/v1/series").statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/series", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        String script = get("/dashboard/dashboard.js").body();
        assertThat(script).as("the page asks for the token, keeps it and sends it")
                .contains("localStorage", "Authorization", "'Bearer '", "401");
    }
}
