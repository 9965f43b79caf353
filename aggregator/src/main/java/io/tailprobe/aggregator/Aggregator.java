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
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running aggregator: the topics ensured, the topology started. */
public final class Aggregator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Aggregator.class);
    /** The producer's compression unless {@code kafka.compression.type} or {@code kafka.producer.compression.type} is set. */
    static final String OUTPUT_COMPRESSION = "lz4";

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
        streams.setUncaughtExceptionHandler(failure -> {
            StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse response = onStreamThreadFailure(failure);
            if (response == StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD) {
                metrics.threadReplaced();
            }
            return response;
        });
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
        if (!config.kafka().containsKey(ProducerConfig.COMPRESSION_TYPE_CONFIG)
                && !config.kafka().containsKey(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG))) {
            // Windows are ~1.4 KB records of repeated keys, labels and histogram headers: lz4 makes them
            // 0.38 x the bytes for little CPU, and under exactly-once every commit waits for the broker
            // to take them (the producer's flush); see PERFORMANCE.md, issue 4.
            props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), OUTPUT_COMPRESSION);
        }
        props.putAll(KafkaSettings.toProperties(config.kafka()));
        return props;
    }

    /**
     * What a stream thread's failure does: a thread that failed because the broker was out of reach
     * for longer than the producer waits (a send's metadata timeout during a 60 s outage, and the
     * transaction it aborted) is replaced, and its tasks start again from their last commit, as after a
     * restart (exactly once: the open transaction was aborted); anything else stops the aggregator, whose
     * {@code /health} then answers 503 and whose supervisor restarts it.
     */
    static StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse onStreamThreadFailure(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof RetriableException || cause instanceof TransactionAbortableException) {
                LOG.warn("a stream thread failed while the broker was out of reach ({}); replacing it, its tasks "
                        + "start again from their last commit", cause.toString());
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            }
        }
        LOG.error("a stream thread failed; stopping the aggregator", failure);
        return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
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
