package io.tailprobe.aggregator;

import io.javalin.Javalin;
import io.tailprobe.common.ConfigException;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.common.PrometheusText;
import io.tailprobe.schemas.TopicSpecs;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Metric;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running aggregator: the topics ensured, the topology started. */
public final class Aggregator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Aggregator.class);

    private final KafkaStreams streams;
    private final AggregatorMetrics metrics;
    private final Javalin http;

    private Aggregator(KafkaStreams streams, AggregatorMetrics metrics, Javalin http) {
        this.streams = streams;
        this.metrics = metrics;
        this.http = http;
    }

    public static Aggregator start(AggregatorConfig config) {
        config.validated();
        try (Admin admin = Admin.create(KafkaSettings.toProperties(config.kafka()))) {
            AggregatorConfig.TopicsSetup topics = config.topics();
            TopicSpecs.ensure(admin, topics.samples(), topics.deadLetters(), topics.partitions(), topics.replicationFactor());
            for (String change : TopicSpecs.ensureHistograms(admin, topics.samples(), topics.histograms(),
                    topics.replicationFactor(), config.retentionByResolutionSeconds())) {
                LOG.info("histogram topic {}", change);
            }
        }
        AggregatorMetrics metrics = new AggregatorMetrics();
        AtomicReference<KafkaStreams> app = new AtomicReference<>();
        Properties properties = streamsProperties(config);
        KafkaStreams streams = new KafkaStreams(LatencyTopology.build(config, metrics,
                InputLag.of(app::get, config.topics().samples()),
                new KafkaTaskHistory(properties, config.topics().samples())), properties);
        app.set(streams);
        metrics.lag(() -> recordsLagMax(streams));
        Javalin http = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.jetty.port = config.http().port();
            javalin.routes.get("/health", ctx -> {
                boolean running = streams.state() == KafkaStreams.State.RUNNING;
                ctx.status(running ? 200 : 503).contentType("application/json")
                        .result("{\"status\":\"" + (running ? "UP" : "DOWN") + "\",\"streams\":\"" + streams.state() + "\"}");
            });
            javalin.routes.get("/metrics", ctx -> ctx.contentType(PrometheusText.contentType())
                    .result(PrometheusText.scrape(metrics.registry())));
        });
        try {
            http.start();
        } catch (RuntimeException e) {
            throw new ConfigException("cannot serve HTTP on port " + config.http().port() + " (http.port): "
                    + e.getMessage(), e);
        }
        streams.start();
        return new Aggregator(streams, metrics, http);
    }

    /** Streams settings from the config; any {@code kafka.*} property passes through and wins. */
    public static Properties streamsProperties(AggregatorConfig config) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.streams().applicationId());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.streams().stateDir().toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.streams().processingGuarantee());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streams().threads());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.streams().commitInterval().toMillis());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.topics().replicationFactor());
        props.putAll(KafkaSettings.toProperties(config.kafka()));
        return props;
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** The port of {@code /health} and {@code /metrics}: the bound one when configured as 0. */
    public int httpPort() {
        return http.port();
    }

    private static double recordsLagMax(KafkaStreams streams) {
        double lag = 0;
        for (Metric metric : streams.metrics().values()) {
            if (metric.metricName().name().equals("records-lag-max") && metric.metricValue() instanceof Double value
                    && !value.isNaN()) {
                lag = Math.max(lag, value);
            }
        }
        return lag;
    }

    public AggregatorMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        try {
            streams.close(Duration.ofSeconds(30));
        } finally {
            http.stop();
        }
    }
}
