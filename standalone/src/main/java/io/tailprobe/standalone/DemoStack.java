package io.tailprobe.standalone;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.ProbeAgent;
import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.QueryService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The whole pipeline in one JVM: an embedded Kafka broker, the aggregator, the query API, a probe
 * agent and demo targets. Closing it stops them in reverse order of start.
 */
public final class DemoStack implements AutoCloseable {
    public static final String STEADY_TARGET = "demo-steady";
    public static final String JITTERY_TARGET = "demo-jittery";
    public static final String CONNECT_TARGET = "demo-connect";
    public static final String HTTP_TARGET = "demo-http";

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final EmbeddedKafka kafka;
    private final Aggregator aggregator;
    private final QueryService query;
    private final ProbeAgent agent;

    public DemoStack(DemoConfig config) {
        try {
            kafka = started(EmbeddedKafka.start(config.broker().port(), config.broker().dataDir(), Map.of()));
            Path stateDir = config.broker().dataDir() == null
                    ? kafka.dataDir().resolve("streams") : config.broker().dataDir().resolve("streams");
            Map<String, String> bootstrap = Map.of("bootstrap.servers", kafka.bootstrapServers());

            AggregatorConfig aggregatorDefaults = AggregatorConfig.defaults();
            AggregatorConfig aggregatorConfig = new AggregatorConfig(bootstrap,
                    new AggregatorConfig.Streams(aggregatorDefaults.streams().applicationId(), stateDir.resolve("aggregator"),
                            aggregatorDefaults.streams().processingGuarantee(), 1, aggregatorDefaults.streams().commitInterval()),
                    new AggregatorConfig.Window(Duration.ofSeconds(10), config.grace(), Duration.ofSeconds(10)),
                    new AggregatorConfig.TopicsSetup(3, (short) 1), aggregatorDefaults.maxLatency(),
                    new AggregatorConfig.Http(config.aggregatorPort()));
            aggregator = started(Aggregator.start(aggregatorConfig));

            QueryApiConfig queryDefaults = QueryApiConfig.defaultConfig();
            query = started(QueryService.start(new QueryApiConfig(bootstrap, new QueryApiConfig.Http(config.queryApiPort()),
                    new QueryApiConfig.Streams(QueryApiConfig.DEFAULT_APPLICATION_ID, stateDir.resolve("query-api").toString(), ""),
                    queryDefaults.maxRange())));

            DemoConfig.Demo demo = config.demo();
            DemoTcpServer steady = started(new DemoTcpServer(0, demo.steadyDelay(), Duration.ZERO));
            DemoTcpServer jittery = started(new DemoTcpServer(0, demo.jitteryBase(), demo.jitteryMean()));
            DemoHttpServer web = started(new DemoHttpServer(0, demo.steadyDelay()));
            Duration timeout = Duration.ofSeconds(2);
            List<AgentConfig.Target> targets = List.of(
                    new AgentConfig.Target(STEADY_TARGET, "tcp", steady.address(), demo.interval(), timeout,
                            "ping\n", "^pong", Map.of("demo", "steady")),
                    new AgentConfig.Target(JITTERY_TARGET, "tcp", jittery.address(), demo.interval(), timeout,
                            "ping\n", "^pong", Map.of("demo", "jittery")),
                    new AgentConfig.Target(CONNECT_TARGET, "tcp", steady.address(), demo.interval(), timeout,
                            null, null, Map.of("demo", "connect")),
                    new AgentConfig.Target(HTTP_TARGET, "http", web.url(), demo.interval(), timeout,
                            null, null, Map.of("demo", "http")));
            // The agent's spool sits beside the broker's data: kept with it, or deleted with it when temporary.
            agent = started(ProbeAgent.start(AgentConfig.defaultConfig().withKafka(bootstrap)
                    .withHttpPort(config.agentPort()).withTargets(targets)
                    .withSpoolDirectory(kafka.dataDir().resolve("agent-spool"))));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T started(T service) {
        started.push(service);
        return service;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public int queryApiPort() {
        return query.port();
    }

    public int aggregatorPort() {
        return aggregator.httpPort();
    }

    public int agentPort() {
        return agent.httpPort();
    }

    public ProbeAgent agent() {
        return agent;
    }

    @Override
    public void close() {
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                System.err.println("while stopping: " + e);
            }
        }
    }
}
