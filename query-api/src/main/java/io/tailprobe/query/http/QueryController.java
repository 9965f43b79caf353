package io.tailprobe.query.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.percentile.HeatmapQuery;
import io.tailprobe.query.percentile.HistogramExport;
import io.tailprobe.query.percentile.Latency;
import io.tailprobe.query.percentile.PercentileQuery;
import io.tailprobe.query.percentile.PercentileService;
import io.tailprobe.query.percentile.RunCacheStats;
import io.tailprobe.query.percentile.SeriesFilter;
import io.tailprobe.query.percentile.SeriesMatch;
import io.tailprobe.query.percentile.SeriesRange;
import io.tailprobe.query.percentile.SloQuery;
import io.tailprobe.query.percentile.TimeSeriesQuery;
import io.tailprobe.query.samples.SampleQuery;
import io.tailprobe.query.samples.SampleSource;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP only: reads and checks parameters, asks {@link PercentileService} or the {@link SampleSource}, and
 * writes JSON (NDJSON for raw samples, text for an interval log).
 */
final class QueryController {
    static final List<Double> DEFAULT_QUANTILES = List.of(0.5, 0.9, 0.99, 0.999);
    static final Duration DEFAULT_LOOKBACK = Duration.ofHours(1);
    /** An SLO's range when the query gives no {@code from}: 30 days, or {@code maxRange} if shorter. */
    static final Duration SLO_LOOKBACK = Duration.ofDays(30);
    /** Raw samples' range when the query gives no {@code from}: 5 minutes, or {@code samples.maxRange} if shorter. */
    static final Duration SAMPLES_LOOKBACK = Duration.ofMinutes(5);
    static final int DEFAULT_SAMPLES_LIMIT = 1_000;
    static final String NDJSON = "application/x-ndjson";
    /** How many series matched a listing, however many it returned. */
    static final String TOTAL_COUNT_HEADER = "X-Total-Count";
    private static final Logger LOG = LoggerFactory.getLogger(QueryController.class);

    /** One row of {@code GET /api/v1/series}. */
    record SeriesView(String target, String probe, String protocol, String host, int resolutionSeconds,
                      long firstWindowStartMillis, long lastWindowStartMillis, Map<String, String> labels) {
        static SeriesView of(SeriesInfo info) {
            return new SeriesView(info.target(), info.probeType(), info.protocol(), info.host(),
                    info.resolutionSeconds(), info.firstWindowStartMillis(), info.lastWindowStartMillis(),
                    new TreeMap<>(info.labels()));
        }
    }

    private final HistogramStore store;
    private final SampleSource samples;
    private final QueryApiConfig.Samples samplesConfig;
    private final ObjectMapper lines = new ObjectMapper();
    private final PercentileService service;
    private final Clock clock;
    private final Duration maxRange;
    private final int maxSeries;

    /** @param readInTurn the store as the queries read it, taking turns ({@link QueryTurns#readingInTurn}) */
    QueryController(HistogramStore store, HistogramStore readInTurn, SampleSource samples, Clock clock,
                    QueryApiConfig config) {
        this.store = store;
        this.samples = samples;
        this.samplesConfig = config.samples();
        this.service = new PercentileService(readInTurn, config.maxSteps());
        this.clock = clock;
        this.maxRange = config.maxRange();
        this.maxSeries = config.maxSeries();
    }

    /** What the percentile service's cache of run sums did and holds. */
    RunCacheStats cacheStats() {
        return service.cacheStats();
    }

    /** Every matching series, at most {@code limit} (default and most: {@code maxSeries}); the header has the total. */
    void series(Context ctx) {
        SeriesFilter filter = new SeriesFilter(QueryParameters.optionalName(ctx, "target"),
                QueryParameters.optionalName(ctx, "probe"), QueryParameters.optionalName(ctx, "protocol"),
                QueryParameters.optionalName(ctx, "host"), QueryParameters.labels(ctx));
        int limit = QueryParameters.integer(ctx, "limit", 1, maxSeries, maxSeries);
        List<SeriesInfo> matching = service.series(filter);
        ctx.header(TOTAL_COUNT_HEADER, Integer.toString(matching.size()));
        ctx.json(matching.stream().limit(limit).map(SeriesView::of).toList());
    }

    void percentiles(Context ctx) {
        SeriesRange range = range(ctx, DEFAULT_LOOKBACK);
        ctx.json(service.percentiles(new PercentileQuery(range, QueryParameters.quantiles(ctx, DEFAULT_QUANTILES),
                QueryParameters.phases(ctx))));
    }

    void timeSeries(Context ctx) {
        SeriesRange range = range(ctx, DEFAULT_LOOKBACK);
        ctx.json(service.timeSeries(new TimeSeriesQuery(range, QueryParameters.latency(ctx, Latency.RESPONSE),
                QueryParameters.seconds(ctx, "step"), QueryParameters.quantiles(ctx, DEFAULT_QUANTILES))));
    }

    void heatmap(Context ctx) {
        SeriesRange range = range(ctx, DEFAULT_LOOKBACK);
        ctx.json(service.heatmap(new HeatmapQuery(range, QueryParameters.latency(ctx, Latency.RESPONSE),
                QueryParameters.seconds(ctx, "step"), QueryParameters.integer(ctx, "bucketsPerDecade", 1,
                        HeatmapQuery.MAX_BUCKETS_PER_DECADE, HeatmapQuery.DEFAULT_BUCKETS_PER_DECADE))));
    }

    void slo(Context ctx) {
        SeriesRange range = range(ctx, SLO_LOOKBACK);
        ctx.json(service.slo(new SloQuery(range, QueryParameters.latency(ctx, Latency.RESPONSE),
                QueryParameters.requiredLatencyNanos(ctx, "threshold"), QueryParameters.openFraction(ctx, "objective"))));
    }

    void histogram(Context ctx) {
        SeriesRange range = range(ctx, DEFAULT_LOOKBACK);
        Latency latency = QueryParameters.latency(ctx, Latency.RESPONSE);
        long stepSeconds = QueryParameters.seconds(ctx, "step");
        String format = QueryParameters.oneOf(ctx, "format", HistogramFormats.NAMES);
        HistogramExport export = service.histograms(range, latency, stepSeconds);
        if (format.equals(HistogramFormats.BASE64)) {
            ctx.json(HistogramFormats.encoded(export));
            return;
        }
        ctx.contentType("text/plain; charset=utf-8");
        String file = (range.target() + "-" + latency + ".hlog").replaceAll("[^A-Za-z0-9._-]", "_");
        ctx.header("Content-Disposition", "attachment; filename=\"" + file + "\"");
        HistogramFormats.writeLog(export, ctx.outputStream());
    }

    void samples(Context ctx) {
        String target = QueryParameters.requiredName(ctx, "target");
        String probe = QueryParameters.requiredName(ctx, "probe");
        String protocol = QueryParameters.optionalName(ctx, "protocol");
        String host = QueryParameters.optionalName(ctx, "host");
        long[] fromTo = fromTo(ctx, SAMPLES_LOOKBACK, samplesConfig.maxRange());
        long fromMillis = fromTo[0];
        long toMillis = fromTo[1];
        int limit = QueryParameters.integer(ctx, "limit", 1, samplesConfig.maxLimit(),
                Math.min(DEFAULT_SAMPLES_LIMIT, samplesConfig.maxLimit()));
        List<SeriesKey> series = protocol != null ? List.of(new SeriesKey(target, probe, protocol))
                : SeriesMatch.of(store, new SeriesRange(target, probe, null, HistogramKey.FLEET, fromMillis, toMillis, 0))
                        .protocols().stream().map(p -> new SeriesKey(target, probe, p)).toList();
        try (SampleSource.Cursor cursor = samples.open(new SampleQuery(series, host, fromMillis, toMillis, limit))) {
            ctx.contentType(NDJSON);
            OutputStream out = ctx.outputStream();
            cursor.forEach(sample -> {
                try {
                    out.write(lines.writeValueAsBytes(AvroJson.of(sample)));
                    out.write('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            LOG.info("{} {}: the client stopped reading ({})", ctx.method(), ctx.path(), e.getCause().toString());
        }
    }

    /** The series and time range every latency endpoint takes; {@code from} defaults to {@code lookback} before {@code to}. */
    private SeriesRange range(Context ctx, Duration lookback) {
        String target = QueryParameters.requiredName(ctx, "target");
        String probe = QueryParameters.requiredName(ctx, "probe");
        String protocol = QueryParameters.optionalName(ctx, "protocol");
        String host = QueryParameters.optionalName(ctx, "host");
        long[] fromTo = fromTo(ctx, lookback, maxRange);
        return new SeriesRange(target, probe, protocol, host == null ? HistogramKey.FLEET : host, fromTo[0], fromTo[1],
                (int) QueryParameters.seconds(ctx, "resolution"));
    }

    /**
     * {@code [from, to]} in epoch milliseconds: {@code to} defaults to now, {@code from} to {@code lookback}
     * (at most {@code longest}) before it; the range must be at most {@code longest}.
     */
    private long[] fromTo(Context ctx, Duration lookback, Duration longest) {
        long toMillis = QueryParameters.instantMillis(ctx, "to", clock.millis());
        long fromMillis = QueryParameters.instantMillis(ctx, "from", toMillis - Math.min(lookback.toMillis(),
                longest.toMillis()));
        QueryParameters.checkRange(ctx, fromMillis, toMillis, longest);
        return new long[] {fromMillis, toMillis};
    }

    void health(Context ctx) {
        boolean up = store.isRunning();
        ctx.status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json(Map.of("status", up ? "UP" : "DOWN"));
    }

    /** 200 READY once the store has caught up with latency.histograms; 503 CATCHING_UP or DOWN before. */
    void ready(Context ctx) {
        if (store.isCaughtUp()) {
            ctx.json(Map.of("status", "READY"));
        } else {
            ctx.status(HttpStatus.SERVICE_UNAVAILABLE).json(Map.of("status", store.isRunning() ? "CATCHING_UP" : "DOWN"));
        }
    }
}
