package io.tailprobe.query.store.kafka;

import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.SeriesInfo;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.query.store.StoreVersions;
import io.tailprobe.query.store.routing.Assignment;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link HistogramStore} backed by a Kafka Streams application that materializes each
 * resolution's histogram topic ({@code latency.histograms.10s}, {@code .1m}, {@code .1h}) as a KTable
 * in its own persistent store ({@link #histogramsStore(int)}: {@code histograms-10s}, …), read through
 * Interactive Queries.
 *
 * <p>The resolutions are those whose topics exist when the store is built (listed by an Admin client):
 * the aggregator creates a topic per configured resolution at its start, so the query side needs no
 * copy of the aggregator's configuration. A topic that appears later (a rollup added to the
 * aggregator) is served from the next restart of the query API.
 *
 * <p>Listing series must not scan every window (a month of one series at 10 s is 267 840 windows), so
 * every table's update stream feeds {@link SeriesIndexProcessor}, which keeps one entry per series, host
 * and resolution in {@value #SERIES_STORE}. The index store joins all tables into one sub-topology (the
 * topics have as many partitions as {@code latency.samples}), so nothing is repartitioned and partition
 * p of every topic is indexed by the same task. Each table reuses its source topic as changelog
 * ({@code reuse.ktable.source.topics}): the compacted histogram topics are not copied into second topics.
 *
 * <p>Lifecycle: {@code new KafkaHistogramStore(config)}, {@link #start()}, then {@link #isRunning()}
 * turns true once the stores are restored and assigned; {@link #close()} stops the application.
 */
public final class KafkaHistogramStore implements HistogramStore {
    public static final String SERIES_STORE = "histogram-series";
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(KafkaHistogramStore.class);

    private final Properties properties;
    private final SortedSet<Integer> resolutionsSeconds;
    /** Of each histogram topic: Streams requires them co-partitioned, since one sub-topology reads them all. */
    private final int partitions;
    private final KafkaStreams streams;
    private final StoreQueries queries;
    /** Changed by the index processor on every window update, and all at once by restores and state changes. */
    private final StoreVersions versions = new StoreVersions();
    /** Latched once every assigned partition was read to its end, until the state leaves RUNNING. */
    private volatile boolean caughtUp;

    /**
     * Looks up the histogram topics on the broker and builds the application over them.
     *
     * @throws IllegalStateException when the broker has no histogram topic yet (the aggregator has
     *     never run) or cannot be reached
     */
    public KafkaHistogramStore(QueryApiConfig config) {
        this.properties = streamsProperties(config);
        try (Admin admin = Admin.create(KafkaSettings.toProperties(config.kafka()))) {
            this.resolutionsSeconds = histogramResolutions(admin);
            if (resolutionsSeconds.isEmpty()) {
                throw new IllegalStateException("no histogram topic (" + Topics.HISTOGRAMS + ".<resolution>) on "
                        + properties.get(KafkaSettings.BOOTSTRAP_SERVERS) + ": the aggregator creates them when it starts");
            }
            this.partitions = partitions(admin, Topics.histograms(resolutionsSeconds.first()));
        }
        this.streams = new KafkaStreams(topology(properties, resolutionsSeconds, versions), properties);
        Map<Integer, IntFunction<ReadOnlyKeyValueStore<String, WindowedHistogram>>> histograms = new TreeMap<>();
        for (int seconds : resolutionsSeconds) {
            String store = histogramsStore(seconds);
            histograms.put(seconds, partition -> streams.store(StoreQueryParameters.fromNameAndType(store,
                    QueryableStoreTypes.<String, WindowedHistogram>keyValueStore()).withPartition(partition)));
        }
        // stores are looked up per query: after a rebalance a previous handle may point at revoked partitions
        this.queries = new StoreQueries(histograms, () -> streams.store(StoreQueryParameters.fromNameAndType(
                SERIES_STORE, QueryableStoreTypes.keyValueStore())), partitions);
        // a restore writes the stores without the index processor seeing it
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(TopicPartition partition, String store, long startOffset, long endOffset) {
                versions.changedAll();
            }

            @Override
            public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long restored) {
                versions.changedAll();
            }

            @Override
            public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
                versions.changedAll();
            }

            @Override
            public void onRestoreSuspended(TopicPartition partition, String store, long totalRestored) {
                versions.changedAll();
            }
        });
        streams.setStateListener((newState, oldState) -> {
            versions.changedAll(); // partitions may have moved in or out
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
     * The resolutions whose histogram topics exist, e.g. {@code [10, 60, 3600]} for
     * {@code latency.histograms.10s}, {@code .1m} and {@code .1h}; other topics are ignored.
     */
    private static SortedSet<Integer> histogramResolutions(Admin admin) {
        try {
            SortedSet<Integer> resolutions = new TreeSet<>();
            for (String topic : admin.listTopics().names().get()) {
                Topics.histogramsResolutionSeconds(topic).ifPresent(resolutions::add);
            }
            return resolutions;
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list the histogram topics: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing the histogram topics", e);
        }
    }

    private static int partitions(Admin admin, String topic) {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot describe " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing " + topic, e);
        }
    }

    /** The store of one resolution's windows: {@code histograms-10s} for {@code latency.histograms.10s}. */
    public static String histogramsStore(int resolutionSeconds) {
        return "histograms-" + resolutionName(resolutionSeconds);
    }

    /**
     * The topology: for each resolution, its topic → KTable {@link #histogramsStore(int)} → update
     * stream → the one series index {@value #SERIES_STORE}. Pure; {@code properties} only select the
     * optimizations.
     */
    public static Topology topology(Properties properties, Collection<Integer> resolutionsSeconds) {
        return topology(properties, resolutionsSeconds, new StoreVersions());
    }

    /** As {@link #topology(Properties, Collection)}, the index processor changing {@code versions} on every update. */
    public static Topology topology(Properties properties, Collection<Integer> resolutionsSeconds,
                                    StoreVersions versions) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(SERIES_STORE), Serdes.String(), SeriesSpan.serde()));
        for (int seconds : resolutionsSeconds) {
            String resolution = resolutionName(seconds);
            builder.table(Topics.histograms(seconds),
                            Consumed.with(Topics.keySerde(), Topics.histogramSerde()).withName("histograms-source-" + resolution),
                            Materialized.<String, WindowedHistogram, KeyValueStore<Bytes, byte[]>>as(histogramsStore(seconds))
                                    .withKeySerde(Topics.keySerde())
                                    .withValueSerde(Topics.histogramSerde())
                                    // every update reaches the index at once, not at the next commit
                                    .withCachingDisabled())
                    .toStream(Named.as("histogram-updates-" + resolution))
                    .process(() -> new SeriesIndexProcessor(versions), Named.as("index-series-" + resolution), SERIES_STORE);
        }
        return builder.build(properties);
    }

    /** {@code 10s}, {@code 1m}, {@code 1h}: the resolution as its topic names it. */
    private static String resolutionName(int resolutionSeconds) {
        return Topics.histograms(resolutionSeconds).substring(Topics.HISTOGRAMS.length() + 1);
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
                resolutionsSeconds.stream().map(Topics::histograms).toList(), properties.get(KafkaSettings.BOOTSTRAP_SERVERS));
        streams.start();
    }

    @Override
    public boolean isRunning() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /**
     * Running, and the main consumer's {@code records-lag} is 0 for every partition of every
     * {@code latency.histograms.<resolution>} topic this instance owns (unknown before its first fetch counts as behind;
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
        Set<String> owned = new HashSet<>(); // "topic-partition" as the fetch metrics' tags spell it
        for (int partition : localPartitions()) {
            resolutionsSeconds.forEach(seconds -> owned.add(metricTopic(Topics.histograms(seconds)) + "-" + partition));
        }
        Map<String, Double> lags = new HashMap<>();
        for (Metric metric : streams.metrics().values()) {
            MetricName name = metric.metricName();
            String clientId = name.tags().getOrDefault("client-id", "");
            if (name.name().equals("records-lag") && name.tags().containsKey("topic")
                    && !clientId.endsWith("restore-consumer") && name.tags().containsKey("partition")
                    && metric.metricValue() instanceof Double lag && !lag.isNaN()) {
                lags.merge(name.tags().get("topic") + "-" + name.tags().get("partition"), lag, Math::max);
            }
        }
        for (String partition : owned) {
            Double lag = lags.get(partition);
            if (lag == null || lag > 0) {
                return false;
            }
        }
        caughtUp = isRunning();
        return caughtUp;
    }

    /** A topic name as the consumer's fetch metrics tag it ({@code .} becomes {@code _}). */
    private static String metricTopic(String topic) {
        return topic.replace('.', '_');
    }

    /** The Kafka Streams state, e.g. {@code REBALANCING} while partitions move. */
    public KafkaStreams.State state() {
        return streams.state();
    }

    /** The histogram topics' partitions whose active tasks run on this instance now, e.g. {@code [0, 2, 4]}. */
    public Set<Integer> localPartitions() {
        Set<Integer> local = new TreeSet<>();
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : thread.activeTasks()) {
                task.topicPartitions().stream().filter(p -> Topics.histogramsResolutionSeconds(p.topic()).isPresent())
                        .forEach(p -> local.add(p.partition()));
            }
        }
        return local;
    }

    /**
     * Which instance holds which partition, from Kafka Streams' metadata of the application's instances
     * ({@code queryMetadataForKey} with the series' partition, {@code metadataForAllStreamsClients}).
     */
    public Assignment assignment() {
        return new Assignment() {
            @Override
            public int partitions() {
                return partitions;
            }

            @Override
            public Optional<HostInfo> activeHost(SeriesKey series) {
                KeyQueryMetadata metadata;
                try {
                    metadata = streams.queryMetadataForKey(SERIES_STORE, series,
                            (topic, key, value, count) -> Optional.of(Set.of(Topics.seriesPartition(key, count))));
                } catch (StreamsException | IllegalStateException e) { // not started, or shutting down
                    return Optional.empty();
                }
                HostInfo active = metadata.activeHost();
                return active == null || active.equals(HostInfo.unavailable()) ? Optional.empty() : Optional.of(active);
            }

            @Override
            public Map<HostInfo, Set<Integer>> activePartitions() {
                Map<HostInfo, Set<Integer>> held = new HashMap<>();
                for (StreamsMetadata instance : streams.metadataForAllStreamsClients()) {
                    Set<Integer> partitions = new TreeSet<>();
                    instance.topicPartitions().stream()
                            .filter(p -> Topics.histogramsResolutionSeconds(p.topic()).isPresent())
                            .forEach(p -> partitions.add(p.partition()));
                    held.put(instance.hostInfo(), partitions);
                }
                return held;
            }
        };
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
    public List<SeriesInfo> series(String target) {
        try {
            return queries.series(target);
        } catch (InvalidStateStoreException e) {
            throw unavailable(e);
        }
    }

    @Override
    public long version(SeriesKey series, String host, int resolutionSeconds, long fromMillis,
                        long toMillisExclusive) {
        return versions.version(series, host, resolutionSeconds, fromMillis, toMillisExclusive);
    }

    @Override
    public long seriesVersion() {
        return versions.seriesVersion();
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

    private StoreUnavailableException unavailable(InvalidStateStoreException e) {
        return new StoreUnavailableException("the histogram store is not queryable now (Kafka Streams state "
                + streams.state() + "): " + e.getMessage(), e);
    }
}
