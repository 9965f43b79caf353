package io.tailprobe.query.http;

import io.javalin.http.Context;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.routing.PeerWire;
import io.tailprobe.schemas.SeriesKey;

/**
 * The routes other instances of the query API read this one's partitions through ({@link PeerWire}).
 * They answer from this instance's own store only, never forwarding, so a request is forwarded at most
 * once; one about a partition this instance does not hold (any more) answers 503. Under the bearer token
 * like {@code /api/**}, and left out of {@code /openapi.json}: they are no part of the public API.
 */
final class InternalController {
    private final HistogramStore local;

    InternalController(HistogramStore local) {
        this.local = local;
    }

    void windows(Context ctx) {
        SeriesKey series = new SeriesKey(QueryParameters.requiredName(ctx, "target"),
                QueryParameters.requiredName(ctx, "probe"), QueryParameters.requiredName(ctx, "protocol"));
        String host = QueryParameters.requiredName(ctx, "host");
        int resolutionSeconds = QueryParameters.integer(ctx, required(ctx, "resolution"), 1, Integer.MAX_VALUE, 0);
        long fromMillis = QueryParameters.instantMillis(ctx, required(ctx, "from"), 0);
        long toMillis = QueryParameters.instantMillis(ctx, required(ctx, "to"), 0);
        ctx.contentType(PeerWire.WINDOWS_CONTENT_TYPE).result(PeerWire.encodeWindows(
                local.windows(series, host, resolutionSeconds, fromMillis, toMillis)));
    }

    private static String required(Context ctx, String parameter) {
        if (ctx.queryParam(parameter) == null) {
            throw QueryParameters.badRequest(parameter, "is required", "");
        }
        return parameter;
    }

    void series(Context ctx) {
        String target = QueryParameters.optionalName(ctx, "target");
        ctx.contentType("application/json").result(PeerWire.encodeSeries(
                target == null ? local.series() : local.series(target)));
    }
}
