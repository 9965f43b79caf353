package io.tailprobe.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The agent's own HTTP endpoints: {@code GET /health} → {@code {"status":"UP","agent":"web-1","targets":3}},
 * {@code POST /check} (every target probed once now, results as JSON; see {@link TargetCheck})
 * and {@code GET /metrics} in the Prometheus text format. Constructible from its dependencies so a
 * test can serve it without probes or Kafka.
 */
final class AgentHttpServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Javalin app;

    /** Runs every target once now and returns one JSON-ready row per target. */
    interface Checker {
        List<Map<String, Object>> checkAll() throws InterruptedException;
    }

    AgentHttpServer(int port, String agentId, IntSupplier targets, AgentMetrics metrics, Checker checker) {
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.jetty.port = port;
            config.routes.get("/health", ctx -> ctx.contentType("application/json")
                    .result(health(agentId, targets.getAsInt())));
            config.routes.post("/check", ctx -> ctx.contentType("application/json")
                    .result(JSON.writeValueAsString(checker.checkAll())));
            config.routes.get("/metrics", ctx -> metrics(ctx, metrics));
        });
    }

    AgentHttpServer start() {
        app.start();
        return this;
    }

    /** The bound port (the real one when configured with 0). */
    int port() {
        return app.port();
    }

    private static void metrics(Context ctx, AgentMetrics metrics) {
        ctx.contentType(metrics.contentType()).result(metrics.scrape());
    }

    private static String health(String agentId, int targets) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "UP");
        body.put("agent", agentId);
        body.put("targets", targets);
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        app.stop();
    }
}
