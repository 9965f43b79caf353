package io.tailprobe.query;

import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigLoader;
import io.tailprobe.common.ConfigOptions;
import io.tailprobe.common.Durations;
import io.tailprobe.common.KafkaSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The query API's configuration, loaded by {@link ConfigLoader} (defaults, YAML file,
 * {@code TAILPROBE_…} environment, {@code --set key=value}). The defaults run on a laptop: HTTP on
 * 8080, a broker on {@code localhost:9092}, Kafka Streams application id {@code tailprobe-query-api}
 * with its state under {@code java.io.tmpdir}, queries of at most 31 days and 1 000 steps, listings of
 * at most 10 000 series, no auth and no CORS.
 *
 * <p>Example: {@code --set http.port=0 --set streams.stateDir=/var/lib/tailprobe --set maxRange=7d}
 * serves on a free port, keeps the materialized windows in {@code /var/lib/tailprobe} and rejects a
 * query spanning 8 days with a 400 naming {@code from}.
 *
 * @param kafka Kafka client properties, passed through verbatim (SASL, TLS, …)
 * @param http the HTTP listener; port 0 picks a free port
 * @param streams the Kafka Streams application that materializes the histogram topics
 *     ({@code latency.histograms.<resolution>}, found on the broker at start)
 * @param maxRange the longest {@code to - from} a query may ask for
 * @param maxSteps the most steps (points of a time series, columns of a heatmap, intervals of an export)
 *     one answer may have
 * @param maxSeries the most rows one series listing may have
 * @param samples how raw samples are read back from {@code latency.samples}
 * @param metrics what {@code /metrics} exposes
 */
public record QueryApiConfig(Map<String, String> kafka, Http http, Streams streams, Duration maxRange,
                             int maxSteps, int maxSeries, Samples samples, Metrics metrics) {
    public static final int DEFAULT_HTTP_PORT = 8080;
    public static final String DEFAULT_APPLICATION_ID = "tailprobe-query-api";
    public static final Duration DEFAULT_MAX_RANGE = Duration.ofDays(31);
    public static final int DEFAULT_MAX_STEPS = 1_000;
    public static final int DEFAULT_MAX_SERIES = 10_000;

    public QueryApiConfig {
        kafka = kafka == null ? KafkaSettings.defaults() : new TreeMap<>(kafka);
        http = http == null ? new Http(DEFAULT_HTTP_PORT) : http;
        streams = streams == null ? new Streams(null, null, null) : streams;
        maxRange = maxRange == null ? DEFAULT_MAX_RANGE : maxRange;
        samples = samples == null ? Samples.defaults() : samples;
        metrics = metrics == null ? Metrics.defaults() : metrics;
    }

    /** The keys the standalone stack sets; every other key takes its default. */
    public QueryApiConfig(Map<String, String> kafka, Http http, Streams streams, Duration maxRange) {
        this(kafka, http, streams, maxRange, DEFAULT_MAX_STEPS, DEFAULT_MAX_SERIES, null, null);
    }

    /**
     * The HTTP listener.
     *
     * @param port 0 picks a free port
     * @param bearerToken when not empty, {@code /api/**} and {@code /metrics} answer 401 unless the request
     *     carries {@code Authorization: Bearer <token>}; {@code /health}, {@code /ready} and
     *     {@code /openapi.json} stay open for probes and tools (default empty: no auth)
     * @param corsOrigins the origins browsers may call the API from, comma-separated
     *     ({@code https://grafana.example.com,https://ops.example.com}), or {@code *} for any; empty
     *     (the default) sends no CORS headers
     * @param maxConcurrentQueries how many queries that read windows ({@code /api/v1/percentiles},
     *     {@code timeseries}, {@code heatmap}, {@code slo}, {@code histogram}) are worked on at once; the
     *     others wait their turn, first come first served, and one answered from kept sums never waits.
     *     0 (the default): one per core. Reading and adding windows is all CPU, so more at once only
     *     makes each take longer: with 32 clients on 2 cores, a query waits for the ones ahead of it
     *     instead of sharing the cores with 31 others
     */
    public record Http(int port, String bearerToken, String corsOrigins, int maxConcurrentQueries) {
        public Http {
            bearerToken = bearerToken == null ? "" : bearerToken;
            corsOrigins = corsOrigins == null ? "" : corsOrigins;
        }

        /** Serves on {@code port} without auth, without CORS, one query per core at a time. */
        public Http(int port) {
            this(port, "", "");
        }

        /** One query per core at a time. */
        public Http(int port, String bearerToken, String corsOrigins) {
            this(port, bearerToken, corsOrigins, 0);
        }

        /** How many queries are worked on at once: {@code maxConcurrentQueries}, or the cores when 0. */
        public int concurrentQueries() {
            return maxConcurrentQueries > 0 ? maxConcurrentQueries : Runtime.getRuntime().availableProcessors();
        }

        /** The configured origins, e.g. {@code [https://grafana.example.com]}; empty when CORS is off. */
        public List<String> corsOriginList() {
            return Arrays.stream(corsOrigins.split(",")).map(String::strip).filter(o -> !o.isEmpty()).toList();
        }
    }

    /**
     * The Kafka Streams application.
     *
     * @param applicationId the consumer group and the prefix of internal topics; instances with the same
     *     one share the partitions of the histogram topics between them
     * @param stateDir where RocksDB keeps the materialized windows; survives restarts
     * @param applicationServer this instance's {@code host:port} as the other instances reach its HTTP API,
     *     e.g. {@code query-2.internal:8080}; set, queries about a series another instance holds are read
     *     from that instance, and listings gather every instance's series. Empty (the default): a single
     *     instance that answers from its own partitions only
     * @param peerTimeout how long a read from another instance may take before the query answers 503
     *     (default 5s)
     */
    public record Streams(String applicationId, String stateDir, String applicationServer, Duration peerTimeout) {
        public static final Duration DEFAULT_PEER_TIMEOUT = Duration.ofSeconds(5);

        public Streams {
            applicationId = applicationId == null ? DEFAULT_APPLICATION_ID : applicationId;
            stateDir = stateDir == null ? defaultStateDir() : stateDir;
            applicationServer = applicationServer == null ? "" : applicationServer;
            peerTimeout = peerTimeout == null ? DEFAULT_PEER_TIMEOUT : peerTimeout;
        }

        /** Reads from other instances time out after {@link #DEFAULT_PEER_TIMEOUT}. */
        public Streams(String applicationId, String stateDir, String applicationServer) {
            this(applicationId, stateDir, applicationServer, DEFAULT_PEER_TIMEOUT);
        }

        /** Whether queries are routed between instances ({@code applicationServer} set). */
        public boolean routed() {
            return !applicationServer.isEmpty();
        }
    }

    /**
     * Reading raw samples back ({@code GET /api/v1/samples}). A sample's record is stamped when the agent
     * sends it, after its scheduled start, so a read seeks to the first record stamped at or after
     * {@code from} and stops at the first one stamped {@code maxSendDelay} after {@code to}.
     *
     * @param maxRange the longest {@code to - from} one read may span (default 1h: a busy partition holds
     *     millions of records an hour)
     * @param maxLimit the most samples one read may return (default 10 000)
     * @param maxSendDelay how long after its scheduled start a sample may reach Kafka and still be found
     *     (default 1m: a probe's timeout plus the agent's queue, with room for clock skew)
     * @param maxReadTime how long one read may take before its stream ends (default 30s)
     */
    public record Samples(Duration maxRange, int maxLimit, Duration maxSendDelay, Duration maxReadTime) {
        public static Samples defaults() {
            return new Samples(Duration.ofHours(1), 10_000, Duration.ofMinutes(1), Duration.ofSeconds(30));
        }
    }

    /**
     * What {@code /metrics} exposes for every fleet-wide series (and every host's, when {@code perHost}):
     * the quantiles of its latest closed window, its samples by outcome, and cumulative histograms of
     * response and service time at {@code buckets}, counted from the stored HdrHistograms over the
     * whole stored history, so changing the buckets (e.g. to an SLO's 200 ms) loses no history.
     *
     * @param quantiles of the latest window, e.g. 0.5 and 0.99 (default 0.5, 0.9, 0.99, 0.999)
     * @param buckets the {@code le} bounds (default Prometheus' own: 5ms, 10ms, 25ms, 50ms, 100ms, 250ms,
     *     500ms, 1s, 2500ms, 5s, 10s)
     * @param perHost whether each host's series are exposed too (default false: a fleet of 500 hosts
     *     would multiply every series by 500)
     */
    public record Metrics(List<Double> quantiles, List<Duration> buckets, boolean perHost) {
        public Metrics {
            quantiles = List.copyOf(quantiles);
            buckets = List.copyOf(buckets);
        }

        public static Metrics defaults() {
            return new Metrics(List.of(0.5, 0.9, 0.99, 0.999), Stream.of(5, 10, 25, 50, 100, 250, 500, 1_000, 2_500,
                    5_000, 10_000).map(Duration::ofMillis).toList(), false);
        }
    }

    /** The laptop defaults (see the class comment). */
    public static QueryApiConfig defaultConfig() {
        return new QueryApiConfig(KafkaSettings.defaults(), new Http(DEFAULT_HTTP_PORT),
                new Streams(DEFAULT_APPLICATION_ID, defaultStateDir(), ""), DEFAULT_MAX_RANGE, DEFAULT_MAX_STEPS,
                DEFAULT_MAX_SERIES, Samples.defaults(), Metrics.defaults());
    }

    /** Loads defaults, file, environment and flags, then {@link #validate() validates}. */
    public static QueryApiConfig load(ConfigOptions options) {
        return options.load(QueryApiConfig.class, defaultConfig()).validate();
    }

    /** Returns this config, or throws {@link ConfigException} naming the first bad key and its rule. */
    public QueryApiConfig validate() {
        if (http.port() < 0 || http.port() > 65_535) {
            throw new ConfigException("http.port must be in [0, 65535], got " + http.port());
        }
        if (http.bearerToken().chars().anyMatch(Character::isWhitespace)) {
            throw new ConfigException("http.bearerToken must not contain whitespace");
        }
        if (http.maxConcurrentQueries() < 0) {
            throw new ConfigException("http.maxConcurrentQueries must be >= 0 (0: one per core), got "
                    + http.maxConcurrentQueries());
        }
        for (String origin : http.corsOriginList()) {
            if (!origin.equals("*") && !origin.matches("https?://[^/\\s]+")) {
                throw new ConfigException("http.corsOrigins must be * or origins such as https://grafana.example.com,"
                        + " comma-separated, got \"" + origin + "\"");
            }
        }
        if (streams.applicationId().isBlank()) {
            throw new ConfigException("streams.applicationId must not be empty");
        }
        if (streams.stateDir().isBlank()) {
            throw new ConfigException("streams.stateDir must not be empty");
        }
        String server = streams.applicationServer();
        if (!server.isEmpty() && !server.matches("[^:\\s]+:\\d{1,5}")) {
            throw new ConfigException("streams.applicationServer must be host:port or empty, got \"" + server + "\"");
        }
        if (streams.routed() && http.port() == 0) {
            throw new ConfigException("http.port must be a fixed port when streams.applicationServer is set (other"
                    + " instances reach this one there), got 0");
        }
        positive("streams.peerTimeout", streams.peerTimeout());
        positive("maxRange", maxRange);
        if (maxSteps < 1) {
            throw new ConfigException("maxSteps must be >= 1, got " + maxSteps);
        }
        if (maxSeries < 1) {
            throw new ConfigException("maxSeries must be >= 1, got " + maxSeries);
        }
        positive("samples.maxRange", samples.maxRange());
        if (samples.maxLimit() < 1) {
            throw new ConfigException("samples.maxLimit must be >= 1, got " + samples.maxLimit());
        }
        if (samples.maxSendDelay().isNegative()) {
            throw new ConfigException("samples.maxSendDelay must be >= 0, got " + Durations.format(samples.maxSendDelay()));
        }
        positive("samples.maxReadTime", samples.maxReadTime());
        for (int i = 0; i < metrics.quantiles().size(); i++) {
            double quantile = metrics.quantiles().get(i);
            if (!(quantile >= 0.0 && quantile <= 1.0)) {
                throw new ConfigException("metrics.quantiles[" + i + "] must be in [0, 1], got " + quantile);
            }
        }
        for (int i = 0; i < metrics.buckets().size(); i++) {
            Duration bound = metrics.buckets().get(i);
            positive("metrics.buckets[" + i + "]", bound);
            if (i > 0 && bound.compareTo(metrics.buckets().get(i - 1)) <= 0) {
                throw new ConfigException("metrics.buckets must be ascending, got " + Durations.format(bound)
                        + " after " + Durations.format(metrics.buckets().get(i - 1)));
            }
        }
        String bootstrap = kafka.get(KafkaSettings.BOOTSTRAP_SERVERS);
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new ConfigException("kafka." + KafkaSettings.BOOTSTRAP_SERVERS + " must not be empty");
        }
        return this;
    }

    private static void positive(String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new ConfigException(key + " must be > 0, got " + Durations.format(value));
        }
    }

    /** A copy serving on {@code port} (0 = a free port). */
    public QueryApiConfig withHttpPort(int port) {
        return new QueryApiConfig(kafka, new Http(port, http.bearerToken(), http.corsOrigins(), http.maxConcurrentQueries()), streams, maxRange,
                maxSteps, maxSeries, samples, metrics);
    }

    private static String defaultStateDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "tailprobe-query-api-state").toString();
    }
}
