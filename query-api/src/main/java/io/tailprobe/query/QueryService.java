package io.tailprobe.query;

import io.tailprobe.query.http.QueryApi;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.query.store.kafka.KafkaHistogramStore;
import io.tailprobe.query.store.routing.PeerClient;
import io.tailprobe.query.store.routing.RoutingHistogramStore;
import java.time.Clock;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running query service: the Kafka-backed store plus the HTTP API, started and stopped together.
 * The command line and the standalone stack both start it here.
 *
 * <p>Example: {@code try (QueryService service = QueryService.start(config.withHttpPort(0))) {
 * URI.create("http://localhost:" + service.port() + "/api/v1/series"); }}
 */
public final class QueryService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QueryService.class);

    private final HistogramStore store;
    private final QueryApi api;

    private QueryService(HistogramStore store, QueryApi api) {
        this.store = store;
        this.api = api;
    }

    /**
     * Validates {@code config}, starts a {@link KafkaHistogramStore} and serves the API on
     * {@code http.port}. Returns at once; {@code /health} reports DOWN until the store is RUNNING. With
     * {@code streams.applicationServer} set, queries go through a {@link RoutingHistogramStore} that reads
     * what other instances hold from them; without, the instance answers from its own store alone.
     */
    public static QueryService start(QueryApiConfig config) {
        config.validate();
        KafkaHistogramStore local = new KafkaHistogramStore(config);
        HistogramStore store = config.streams().routed()
                ? new RoutingHistogramStore(local, local.assignment(),
                        HostInfo.buildFromEndpoint(config.streams().applicationServer()),
                        new PeerClient(config.http().bearerToken(), config.streams().peerTimeout()))
                : local;
        local.start();
        try {
            return start(config, store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Serves the API over an already started {@code store}, which {@link #close()} then closes too. */
    public static QueryService start(QueryApiConfig config, HistogramStore store) {
        QueryApi api = new QueryApi(store, KafkaSampleSource.of(config), Clock.systemUTC(), config).start(config.http().port());
        LOG.info("query API listening on port {}", api.port());
        return new QueryService(store, api);
    }

    /** The HTTP port actually listened on (differs from the configured one when that was 0). */
    public int port() {
        return api.port();
    }

    public HistogramStore store() {
        return store;
    }

    /** Stops the HTTP API first (no request sees a closing store), then the store. */
    @Override
    public void close() {
        try {
            api.close();
        } finally {
            store.close();
        }
    }
}
