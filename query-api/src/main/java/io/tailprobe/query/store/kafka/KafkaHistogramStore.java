package io.tailprobe.query.store.kafka;

import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link HistogramStore} backed by a Kafka Streams application that materializes
 * {@code latency.histograms} as a KTable in the persistent store {@value #HISTOGRAMS_STORE}, read
 * through Interactive Queries.
 *
 * <p>Listing series must not scan every window (a month of one series at 10 s is 267 840 windows), so
 * the table's update stream feeds {@link SeriesIndexProcessor}, which keeps one entry per series, host
 * and resolution in {@value #SERIES_STORE}. Both stores are fed by the same source in the same
 * sub-topology, so neither needs a repartition and both hold the same partitions. The table reuses
 * its source topic as changelog ({@code reuse.ktable.source.topics}): the compacted
 * {@code latency.histograms} is not copied into a second topic.
 *
 * <p>Lifecycle: {@code new KafkaHistogramStore(config)}, {@link #start()}, then {@link #isRunning()}
 * turns true once the stores are restored and assigned; {@link #close()} stops the application.
 */
public final class KafkaHistogramStore implements HistogramStore {
    public static final String HISTOGRAMS_STORE = "histograms";
    public static final String SERIES_STORE = "histogram-series";
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(KafkaHistogramStore.class);

    private final Properties properties;
    private final KafkaStreams streams;
    private final StoreQueries queries;
    /** Latched once every assigned partition was read to its end, until the state leaves RUNNING. */
    private volatile boolean caughtUp;

    public KafkaHistogramStore(QueryApiConfig config) {
        this.properties = streamsProperties(config);
        this.streams = new KafkaStreams(topology(properties), properties);
        this.queries = new StoreQueries(
                storeSupplier(HISTOGRAMS_STORE),
                storeSupplier(SERIES_STORE));
        streams.setStateListener((newState, oldState) -> {
            LOG.info("query store {} -> {}", oldState, newState);
            if (newState != KafkaStreams.State.RUNNING) {
                caughtUp = false; // partitions may move: catch up again before /ready
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            // A dead client makes /health report DOWN, so an orchestrator restarts the instance.
            LOG.error("query store stream thread failed; shutting the store down", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    }

    /**
     * The topology: {@code latency.histograms} → KTable {@value #HISTOGRAMS_STORE} → update stream →
     * series index {@value #SERIES_STORE}. Pure; {@code properties} only select the optimizations.
     */
    public static Topology topology(Properties properties) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(SERIES_STORE), Serdes.String(), SeriesSpan.serde()));
        builder.table(Topics.HISTOGRAMS,
                        Consumed.with(Topics.keySerde(), Topics.histogramSerde()).withName("histograms-source"),
                        Materialized.<String, WindowedHistogram, KeyValueStore<Bytes, byte[]>>as(HISTOGRAMS_STORE)
                                .withKeySerde(Topics.keySerde())
                                .withValueSerde(Topics.histogramSerde())
                                // every update reaches the index at once, not at the next commit
                                .withCachingDisabled())
                .toStream(Named.as("histogram-updates"))
                .process(SeriesIndexProcessor::new, Named.as("index-series"), SERIES_STORE);
        return builder.build(properties);
    }

    /** The Kafka Streams properties: {@code kafka.*} passed through, then the query side's own. */
    public static Properties streamsProperties(QueryApiConfig config) {
        Properties props = KafkaSettings.toProperties(config.kafka());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.streams().applicationId());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.streams().stateDir());
        if (!config.streams().applicationServer().isEmpty()) {
            props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, config.streams().applicationServer());
        }
        props.putIfAbsent(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
        // A record this version cannot decode is logged and skipped; the API keeps serving the rest.
        props.putIfAbsent(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                LogAndContinueExceptionHandler.class.getName());
        return props;
    }

    public void start() {
        LOG.info("starting query store {} from {} at {}", properties.get(StreamsConfig.APPLICATION_ID_CONFIG),
                Topics.HISTOGRAMS, properties.get(KafkaSettings.BOOTSTRAP_SERVERS));
        streams.start();
    }

    @Override
    public boolean isRunning() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /**
     * Running, and the main consumer's {@code records-lag} is 0 for every partition of
     * {@code latency.histograms} this instance owns (unknown before its first fetch counts as behind;
     * an instance that owns none has nothing to catch up on). Once true it stays true until the state
     * leaves RUNNING, so new windows arriving do not make {@code /ready} flap.
     */
    @Override
    public boolean isCaughtUp() {
        if (!isRunning()) {
            return false;
        }
        if (caughtUp) {
            return true;
        }
        Set<Integer> owned = new HashSet<>();
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : thread.activeTasks()) {
                task.topicPartitions().stream().filter(p -> p.topic().equals(Topics.HISTOGRAMS))
                        .forEach(p -> owned.add(p.partition()));
            }
        }
        Map<Integer, Double> lags = new HashMap<>();
        String topicTag = Topics.HISTOGRAMS.replace('.', '_'); // as the consumer's fetch metrics spell it
        for (Metric metric : streams.metrics().values()) {
            MetricName name = metric.metricName();
            String clientId = name.tags().getOrDefault("client-id", "");
            if (name.name().equals("records-lag") && topicTag.equals(name.tags().get("topic"))
                    && !clientId.endsWith("restore-consumer") && name.tags().containsKey("partition")
                    && metric.metricValue() instanceof Double lag && !lag.isNaN()) {
                lags.merge(Integer.parseInt(name.tags().get("partition")), lag, Math::max);
            }
        }
        for (int partition : owned) {
            Double lag = lags.get(partition);
            if (lag == null || lag > 0) {
                return false;
            }
        }
        caughtUp = isRunning();
        return caughtUp;
    }

    /** The Kafka Streams state, e.g. {@code REBALANCING} while partitions move. */
    public KafkaStreams.State state() {
        return streams.state();
    }

    /** For routing queries across instances later ({@code queryMetadataForKey}, {@code metadataForAllStreamsClients}). */
    public KafkaStreams streams() {
        return streams;
    }

    @Override
    public List<SeriesInfo> series() {
        try {
            return queries.series();
        } catch (InvalidStateStoreException e) {
            throw unavailable(e);
        }
    }

    @Override
    public List<WindowedHistogram> windows(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                                           long toMillisExclusive) {
        try {
            return queries.windows(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
        } catch (InvalidStateStoreException e) {
            throw unavailable(e);
        }
    }

    @Override
    public void close() {
        streams.close(CLOSE_TIMEOUT);
    }

    private <V> Supplier<ReadOnlyKeyValueStore<String, V>> storeSupplier(String name) {
        // Looked up per query: after a rebalance the previous handle may point at revoked partitions.
        return () -> streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.keyValueStore()));
    }

    private StoreUnavailableException unavailable(InvalidStateStoreException e) {
        return new StoreUnavailableException("the histogram store is not queryable now (Kafka Streams state "
                + streams.state() + "): " + e.getMessage(), e);
    }
}
