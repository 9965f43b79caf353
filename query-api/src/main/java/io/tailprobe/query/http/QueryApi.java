package io.tailprobe.query.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.json.JavalinJackson;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tailprobe.common.ConfigLoader;
import io.tailprobe.common.PrometheusText;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.metrics.LatencyMetrics;
import io.tailprobe.query.metrics.QueryApiMetrics;
import io.tailprobe.query.percentile.InvalidQueryException;
import io.tailprobe.query.percentile.UnknownSeriesException;
import io.tailprobe.query.samples.SampleSource;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.query.store.routing.PeerWire;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query API over HTTP, every route a GET: {@code /api/v1/series}, {@code /percentiles},
 * {@code /timeseries}, {@code /heatmap}, {@code /slo}, {@code /histogram}, {@code /samples}, then
 * {@code /metrics}, {@code /health}, {@code /ready}, {@code /openapi.json} (which describes them
 * all) and the dashboard ({@code /} and {@code /dashboard/{file}}, {@link Dashboard}), and for the
 * other instances of a routed deployment {@code /internal/v1/windows} and {@code /internal/v1/series}
 * ({@link InternalController}). Built from its dependencies so tests run it over an in-memory store;
 * every error, including 404
 * for an unknown path and 405 for another method, is a JSON object with {@code status}, and a bad
 * parameter's names the parameter, the rule and the value.
 *
 * <p>Example: {@code /api/v1/percentiles?target=demo-tcp&probe=tcp&from=2026-11-23T14:00:00Z&to=2026-11-23T15:00:00Z&quantiles=0.5,0.99}
 * merges the fleet-wide windows of that hour and answers
 * {@code {"target":"demo-tcp","probe":"tcp","protocol":null,"protocols":["tcp"],"host":"*",…,
 * "responseTime":{"count":3600,"minMillis":0.212,"maxMillis":48.3,"meanMillis":1.1,
 * "quantilesMillis":{"0.5":0.9,"0.99":7.41}},"serviceTime":{…},"phases":{}}}.
 */
public final class QueryApi implements AutoCloseable {
    /**
     * Answered without a bearer token even when one is configured: probes and tools that describe the API,
     * and the dashboard's page (which asks the user for the token its own requests need).
     */
    static final Set<String> OPEN_PATHS = Set.of("/health", "/ready", "/openapi.json", Dashboard.PAGE_PATH);
    /** Every path under these is open too: the dashboard's scripts and styles. */
    static final Set<String> OPEN_PREFIXES = Set.of(Dashboard.ASSET_PREFIX);
    private static final Logger LOG = LoggerFactory.getLogger(QueryApi.class);
    /** The OpenAPI 3.1 document served at {@code /openapi.json}, kept as YAML beside this class. */
    static final JsonNode OPENAPI = openApiDocument();

    private final Javalin app;

    /**
     * @param samples where raw samples are read back from
     * @param config the limits ({@code maxRange}, {@code maxSteps}, {@code samples.*}) and the HTTP
     *     settings; the port is given to {@link #start}
     */
    public QueryApi(HistogramStore store, SampleSource samples, Clock clock, QueryApiConfig config) {
        QueryTurns turns = new QueryTurns(config.http().concurrentQueries());
        QueryController controller = new QueryController(store, turns.readingInTurn(store), samples, clock, config);
        Dashboard dashboard = new Dashboard();
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new LatencyMetrics(store, config.metrics()));
        registry.register(new QueryApiMetrics(controller::cacheStats, turns));
        ObjectMapper mapper = new ObjectMapper();
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.jsonMapper(new JavalinJackson(mapper, false));
            cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            cfg.jetty.modifyServletContextHandler(context -> context.setErrorHandler(new JsonErrorHandler()));
            // every route is a GET: any other method gets 405, and nothing served can change stored data
            cfg.http.prefer405over404 = true;
            List<String> origins = config.http().corsOriginList();
            if (!origins.isEmpty()) {
                cfg.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    if (origins.contains("*")) {
                        rule.anyHost();
                    } else {
                        rule.allowHost(origins.getFirst(), origins.subList(1, origins.size()).toArray(String[]::new));
                    }
                    rule.exposeHeader(QueryController.TOTAL_COUNT_HEADER);
                }));
            }
            if (!config.http().bearerToken().isEmpty()) {
                BearerAuth auth = new BearerAuth(config.http().bearerToken(), OPEN_PATHS, OPEN_PREFIXES);
                cfg.routes.beforeMatched(auth::check);
            }
            cfg.routes.get("/api/v1/series", turns.taking(controller::series));
            cfg.routes.get("/api/v1/percentiles", turns.taking(controller::percentiles));
            cfg.routes.get("/api/v1/timeseries", turns.taking(controller::timeSeries));
            cfg.routes.get("/api/v1/heatmap", turns.taking(controller::heatmap));
            cfg.routes.get("/api/v1/slo", turns.taking(controller::slo));
            cfg.routes.get("/api/v1/histogram", turns.taking(controller::histogram));
            cfg.routes.get("/api/v1/samples", controller::samples);
            cfg.routes.get("/metrics", ctx -> ctx.contentType(PrometheusText.contentType())
                    .result(PrometheusText.scrape(registry)));
            cfg.routes.get("/openapi.json", ctx -> ctx.json(OPENAPI));
            cfg.routes.get("/health", controller::health);
            cfg.routes.get("/ready", controller::ready);
            cfg.routes.get(Dashboard.PAGE_PATH, dashboard::page);
            cfg.routes.get(Dashboard.ASSET_PATH, dashboard::asset);
            InternalController internal = new InternalController(store.local());
            cfg.routes.get(PeerWire.WINDOWS_PATH, internal::windows);
            cfg.routes.get(PeerWire.SERIES_PATH, internal::series);
            cfg.routes.exception(HttpResponseException.class, (e, ctx) ->
                    error(ctx, e.getStatus(), e.getMessage(), e.getDetails()));
            cfg.routes.exception(UnknownSeriesException.class, (e, ctx) ->
                    error(ctx, HttpStatus.NOT_FOUND.getCode(), e.getMessage(), Map.of(
                            "parameter", e.parameter(), "rule", e.getMessage(), "value", e.value())));
            cfg.routes.exception(InvalidQueryException.class, (e, ctx) ->
                    error(ctx, HttpStatus.BAD_REQUEST.getCode(), e.getMessage(), QueryParameters.badRequest(
                            e.parameter(), e.rule(), e.value()).getDetails()));
            cfg.routes.exception(StoreUnavailableException.class, (e, ctx) ->
                    error(ctx, HttpStatus.SERVICE_UNAVAILABLE.getCode(), e.getMessage(), Map.of()));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, HttpStatus.INTERNAL_SERVER_ERROR.getCode(), "internal error: " + e.getClass().getSimpleName(),
                        Map.of());
            });
        });
    }

    private static JsonNode openApiDocument() {
        try (InputStream yaml = QueryApi.class.getResourceAsStream("openapi.yaml")) {
            return ConfigLoader.mapper().readTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the OpenAPI document openapi.yaml", e);
        }
    }

    /** Whether {@code path} is answered without the bearer token when one is configured. */
    static boolean isOpen(String path) {
        return BearerAuth.isOpen(path, OPEN_PATHS, OPEN_PREFIXES);
    }

    /** Starts listening on {@code port} (0 = a free port, see {@link #port()}). */
    public QueryApi start(int port) {
        app.start(port);
        return this;
    }

    /**
     * The public paths answered to GET, e.g. {@code /api/v1/series}: what {@code /openapi.json} must
     * describe. The {@code /internal/} routes that instances read each other's partitions through are not.
     */
    Set<String> getPaths() {
        return app.unsafe.internalRouter.allHttpHandlers().stream()
                .filter(handler -> handler.endpoint.method == HandlerType.GET)
                .map(handler -> handler.endpoint.path)
                .filter(path -> !path.startsWith(PeerWire.INTERNAL_PREFIX)).collect(Collectors.toSet());
    }

    /** The port listened on, once started. */
    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    private static void error(Context ctx, int status, String message, Map<String, String> details) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        body.put("error", HttpStatus.forStatus(status).getMessage());
        if (details.containsKey("rule")) {
            body.putAll(details);
        } else {
            body.put("message", message);
            body.putAll(details);
        }
        ctx.status(status).json(body);
    }
}
