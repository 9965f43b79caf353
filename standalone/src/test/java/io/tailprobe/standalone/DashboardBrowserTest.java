package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.http.QueryApi;
import io.tailprobe.query.store.InMemoryHistogramStore;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} driven through its
 * {@code chromedriver}) against the one-JVM stack with live data: an embedded broker, the aggregator,
 * the query API and an agent probing the demo targets. The page reports what it drew and fetched in
 * {@code window.tailprobe}; the browser's console is read through chromedriver's log. Screenshots go to
 * {@code target/dashboard-screenshots/}.
 *
 * <p>Without Chromium the test is skipped, unless {@code TAILPROBE_REQUIRE_CHROMIUM} is set (CI), when it fails.
 */
class DashboardBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");
    static final List<String> PERCENTILE_LINES = List.of("p50", "p90", "p99", "p99.9", "max");
    static final Duration PAGE_TIMEOUT = Duration.ofSeconds(20);
    static final String TOKEN = "browser-test-token";
    static final int WINDOW_WIDTH = 1400;

    @TempDir
    static Path dataDir;
    static DemoStack stack;
    static ChromeDriver browser;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void startStackAndBrowser() {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed && System.getenv("TAILPROBE_REQUIRE_CHROMIUM") != null) {
            throw new AssertionError("TAILPROBE_REQUIRE_CHROMIUM is set but " + CHROMIUM + " or " + CHROMEDRIVER
                    + " is missing (apt-get install chromium chromium-driver)");
        }
        assumeTrue(installed, "the dashboard's browser test needs Debian's chromium and chromium-driver packages "
                + "(apt-get install chromium chromium-driver)");

        stack = new DemoStack(new DemoConfig(new DemoConfig.Broker(0, dataDir), 0, 0, 0,
                new DemoConfig.Demo(Duration.ofMillis(100), Duration.ofMillis(5), Duration.ofMillis(2),
                        Duration.ofMillis(3)), Duration.ofSeconds(1)));
        base = "http://localhost:" + stack.queryApiPort() + "/";

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=" + WINDOW_WIDTH + ",1200", "--lang=en-US");
        LoggingPreferences logging = new LoggingPreferences();
        logging.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logging);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void the_dashboard_draws_the_stored_series_and_a_range_change_fetches_the_new_range() throws Exception {
        // Step 1: windows of the HTTP and TCP demo targets, fleet-wide and per host, have closed.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(status("ready")).isEqualTo(200);
            assertThat(hosts(DemoStack.HTTP_TARGET)).hasSizeGreaterThanOrEqualTo(2);
            JsonNode steady = baseWindows(DemoStack.STEADY_TARGET);
            assertThat(steady.path("lastWindowStartMillis").asLong())
                    .isGreaterThanOrEqualTo(steady.path("firstWindowStartMillis").asLong() + 10_000);
        });

        // Step 2: the page of the HTTP target draws every chart from data, phases included, without a console error.
        browser.get(base + "#target=" + DemoStack.HTTP_TARGET + "&probe=http&range=15m");
        long loads = awaitLoad(0);
        Map<String, Object> charts = page("return window.tailprobe.charts");
        assertThat(chart(charts, "percentiles").get("series")).isEqualTo(PERCENTILE_LINES);
        assertThat(points(charts, "percentiles")).hasSize(5).allMatch(count -> count > 0);
        assertThat(chart(charts, "responseVsService").get("series")).isEqualTo(List.of("response p99", "service p99"));
        assertThat(points(charts, "responseVsService")).allMatch(count -> count > 0);
        assertThat((List<String>) chart(charts, "errors").get("series")).startsWith("all errors");
        assertThat(points(charts, "errors").getFirst()).isPositive();
        assertThat((Long) chart(charts, "heatmap").get("cells")).isPositive();
        assertThat((List<String>) chart(charts, "phases").get("series")).contains("connect", "firstByte");
        assertThat(points(charts, "phases")).allMatch(count -> count > 0);
        List<Map<String, Object>> hostRows = page("return window.tailprobe.tables.hosts");
        assertThat(hostRows).extracting(row -> row.get("host")).containsExactlyInAnyOrderElementsOf(hosts(DemoStack.HTTP_TARGET)
                .stream().filter(host -> !host.equals("*")).toList());
        Map<String, Object> slo = page("return window.tailprobe.slo");
        assertThat(((Number) slo.get("count")).longValue()).isPositive();
        assertThat(browser.findElement(By.id("phases-panel")).isDisplayed()).isTrue();
        assertThat(browser.findElement(By.id("refresh")).isEnabled()).as("live refresh offered for 15 min").isTrue();
        screenshot("http-target-15m");

        // Step 2b: live refresh loads the moving range again by itself; one host instead of the fleet is asked for by name.
        new Select(browser.findElement(By.id("refresh"))).selectByValue("10");
        long toBefore = (Long) page("return window.tailprobe.range.to");
        loads = awaitLoad(loads);
        assertThat((Long) page("return window.tailprobe.range.to")).as("the range moved with the clock")
                .isGreaterThan(toBefore);
        new Select(browser.findElement(By.id("refresh"))).selectByValue("0");
        String agentHost = hosts(DemoStack.HTTP_TARGET).stream().filter(host -> !host.equals("*")).findFirst().orElseThrow();
        new Select(browser.findElement(By.id("host"))).selectByValue(agentHost);
        loads = awaitLoad(loads);
        assertThat((List<String>) page("return window.tailprobe.requests")).anyMatch(url -> url.startsWith(
                "/api/v1/timeseries?") && url.contains("host=" + URLEncoder.encode(agentHost, StandardCharsets.UTF_8) + "&"));
        assertThat(points(page("return window.tailprobe.charts"), "percentiles")).allMatch(count -> count > 0);

        // Step 3: another range from the picker fetches every endpoint again, for that range.
        Map<String, Long> before = page("return Object.assign({}, window.tailprobe.fetches)");
        new Select(browser.findElement(By.id("range"))).selectByValue("1h");
        loads = awaitLoad(loads);
        Map<String, Long> after = page("return Object.assign({}, window.tailprobe.fetches)");
        for (String endpoint : List.of("percentiles", "timeseries", "heatmap", "slo")) {
            assertThat(after.get(endpoint)).as(endpoint).isGreaterThan(before.get(endpoint));
        }
        Map<String, Long> range = page("return window.tailprobe.range");
        assertThat(range.get("to") - range.get("from")).isEqualTo(3_600_000L);
        assertThat((List<String>) page("return window.tailprobe.requests")).anyMatch(url -> url.startsWith(
                "/api/v1/heatmap?") && url.contains("from=" + range.get("from") + "&to=" + range.get("to")));

        // Step 4: the steady TCP target over a custom range of closed windows: each chart's points are the API's.
        new Select(browser.findElement(By.id("target"))).selectByValue(DemoStack.STEADY_TARGET);
        loads = awaitLoad(loads);
        JsonNode steady = baseWindows(DemoStack.STEADY_TARGET);
        long toMillis = steady.path("lastWindowStartMillis").asLong() + 10_000;
        long fromMillis = toMillis - 5 * 60_000;
        new Select(browser.findElement(By.id("range"))).selectByValue("custom");
        loads = awaitLoad(loads);
        assertThat(browser.findElement(By.id("refresh")).isEnabled()).as("no live refresh of a fixed range").isFalse();
        browser.executeScript("""
                const local = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 19);
                document.getElementById('from').value = local(arguments[0]);
                document.getElementById('to').value = local(arguments[1]);""", fromMillis, toMillis);
        browser.findElement(By.id("apply")).click();
        awaitLoad(loads);
        assertThat((Map<String, Long>) page("return window.tailprobe.range"))
                .isEqualTo(Map.of("from", fromMillis, "to", toMillis));
        assertThat((List<String>) page("return window.tailprobe.requests"))
                .anyMatch(url -> url.contains("from=" + fromMillis + "&to=" + toMillis));

        String query = "target=" + DemoStack.STEADY_TARGET + "&probe=tcp&from=" + fromMillis + "&to=" + toMillis;
        JsonNode response = api("timeseries?" + query + "&latency=response");
        JsonNode service = api("timeseries?" + query + "&latency=service");
        JsonNode heatmap = api("heatmap?" + query);
        long responsePoints = withSamples(response.path("points"));
        assertThat(responsePoints).as("closed windows in the range").isGreaterThanOrEqualTo(2);
        charts = page("return window.tailprobe.charts");
        assertThat(chart(charts, "percentiles").get("steps")).isEqualTo((long) response.path("points").size());
        assertThat(points(charts, "percentiles")).containsOnly(responsePoints);
        assertThat(points(charts, "responseVsService")).containsExactly(responsePoints,
                withSamples(service.path("points")));
        assertThat(points(charts, "errors").getFirst()).isEqualTo(responsePoints);
        assertThat(chart(charts, "heatmap").get("columns")).isEqualTo((long) heatmap.path("columns").size());
        assertThat(chart(charts, "heatmap").get("nonEmptyColumns")).isEqualTo(StreamSupport.stream(
                heatmap.path("columns").spliterator(), false).filter(c -> c.path("count").asLong() > 0).count());
        screenshot("steady-target-custom-range");

        // Step 5: nothing went wrong on the page.
        assertThat((List<?>) page("return window.tailprobe.errors")).as("uncaught errors on the page").isEmpty();
        assertThat(browser.findElement(By.id("status")).getAttribute("class")).doesNotContain("error");
        List<String> problems = new ArrayList<>();
        for (LogEntry entry : browser.manage().logs().get(LogType.BROWSER).getAll()) {
            if (entry.getLevel().intValue() >= Level.WARNING.intValue()) {
                problems.add(entry.getLevel() + " " + entry.getMessage());
            }
        }
        assertThat(problems).as("console errors and warnings").isEmpty();
    }

    @Test
    void with_a_bearer_token_configured_the_page_says_401_asks_for_the_token_and_sends_it() throws Exception {
        // Step 1: a query API with a token (over an empty store: what matters here is who may read it).
        QueryApiConfig defaults = QueryApiConfig.defaultConfig();
        QueryApiConfig config = new QueryApiConfig(defaults.kafka(), new QueryApiConfig.Http(0, TOKEN, ""),
                defaults.streams(), defaults.maxRange(), defaults.maxSteps(), defaults.maxSeries(), defaults.samples(),
                defaults.metrics()).validate();
        try (QueryApi guarded = new QueryApi(new InMemoryHistogramStore(), query -> {
            throw new UnsupportedOperationException("no raw samples here");
        }, Clock.systemUTC(), config).start(0)) {
            // Step 2: the page loads, its first request is refused, and it says so and asks for the token.
            browser.get("http://localhost:" + guarded.port() + "/");
            new WebDriverWait(browser, PAGE_TIMEOUT).until(driver -> driver.findElement(By.id("auth")).isDisplayed());
            assertThat(browser.findElement(By.id("status")).getText()).startsWith("401 Unauthorized");
            assertThat(browser.findElement(By.id("auth-message")).getText()).contains("needs a bearer token");

            // Step 3: with the token entered, the page reads the API; the token is kept for the next visit.
            browser.findElement(By.id("token")).sendKeys(TOKEN);
            browser.findElement(By.cssSelector("#auth-form button[type=submit]")).click();
            new WebDriverWait(browser, PAGE_TIMEOUT).until(driver ->
                    driver.findElement(By.id("status")).getText().startsWith("No series"));
            assertThat(browser.findElement(By.id("auth")).isDisplayed()).isFalse();
            assertThat((String) page("return localStorage.getItem('tailprobe.bearerToken')")).isEqualTo(TOKEN);
            assertThat((Long) page("return window.tailprobe.fetches.series")).isEqualTo(2L);
            page("localStorage.clear(); return null");

            List<String> problems = new ArrayList<>();
            for (LogEntry entry : browser.manage().logs().get(LogType.BROWSER).getAll()) {
                if (entry.getLevel().intValue() >= Level.WARNING.intValue() && !entry.getMessage().contains("401")) {
                    problems.add(entry.getLevel() + " " + entry.getMessage());
                }
            }
            assertThat(problems).as("console errors but the refused request's").isEmpty();
        }
    }

    /** Waits until the page has finished a load after the {@code previous}-th; returns the count. */
    private static long awaitLoad(long previous) {
        new WebDriverWait(browser, PAGE_TIMEOUT).pollingEvery(Duration.ofMillis(100)).until(driver -> {
            Map<String, Object> state = page("return {loads: window.tailprobe ? window.tailprobe.loads : 0, "
                    + "loading: window.tailprobe ? window.tailprobe.loading : true, "
                    + "status: document.getElementById('status').className}");
            if (String.valueOf(state.get("status")).contains("error")) {
                throw new AssertionError("the page says: " + browser.findElement(By.id("status")).getText());
            }
            return (Long) state.get("loads") > previous && !(Boolean) state.get("loading");
        });
        return page("return window.tailprobe.loads");
    }

    @SuppressWarnings("unchecked")
    private static <T> T page(String script) {
        return (T) ((JavascriptExecutor) browser).executeScript(script);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> chart(Map<String, Object> charts, String name) {
        assertThat(charts).as("charts drawn").containsKey(name);
        return (Map<String, Object>) charts.get(name);
    }

    @SuppressWarnings("unchecked")
    private static List<Long> points(Map<String, Object> charts, String name) {
        return (List<Long>) chart(charts, name).get("points");
    }

    private static long withSamples(JsonNode points) {
        return StreamSupport.stream(points.spliterator(), false).filter(p -> p.path("latency").path("count").asLong() > 0)
                .count();
    }

    /** The whole page: the window is made as tall as the page first. */
    private static void screenshot(String name) throws IOException {
        long pageHeight = page("return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight");
        browser.manage().window().setSize(new Dimension(WINDOW_WIDTH, (int) pageHeight));
        new WebDriverWait(browser, PAGE_TIMEOUT).until(driver -> (Long) page("return window.innerHeight")
                >= (Long) page("return document.documentElement.scrollHeight"));
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.createDirectories(SCREENSHOTS);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static List<String> hosts(String target) throws Exception {
        List<String> hosts = new ArrayList<>();
        api("series?target=" + target).forEach(s -> hosts.add(s.path("host").asText()));
        return hosts.stream().distinct().sorted().toList();
    }

    /** The fleet-wide 10 s windows of {@code target}'s one series, as /api/v1/series lists them. */
    private static JsonNode baseWindows(String target) throws Exception {
        return StreamSupport.stream(api("series?target=" + target + "&host=*").spliterator(), false)
                .filter(s -> s.path("resolutionSeconds").asInt() == 10).findFirst()
                .orElseThrow(() -> new AssertionError("no 10 s windows of " + target + " yet"));
    }

    private static int status(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static JsonNode api(String pathAndQuery) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base + "api/v1/" + pathAndQuery))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(pathAndQuery + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
