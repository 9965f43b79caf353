package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every service against a broker that requires SASL/PLAIN, set up through configuration alone: the
 * agent, the aggregator and the query API each run as {@code tailprobe <service>} in a JVM of its own
 * with nothing but {@code --set kafka.security.protocol=SASL_PLAINTEXT}, {@code kafka.sasl.mechanism=PLAIN}
 * and {@code kafka.sasl.jaas.config=…} added to what they need anyway. The broker is Kafka's own KRaft
 * server in this JVM with its client listener on SASL_PLAINTEXT (the controller listener stays plain).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaSecurityPassthroughTest {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSecurityPassthroughTest.class);
    private static final Path LOGS = Path.of("target", "fault-logs");
    private static final String USER = "tailprobe";
    private static final String PASSWORD = "tailprobe-secret";
    private static final String TARGET = "sasl-db";
    private static final Pattern STOPPED = Pattern.compile("stopped: (\\d+) samples probed, (\\d+) sent");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    static EmbeddedKafka broker;
    static DemoTcpServer server;

    @TempDir
    static Path work;

    @BeforeAll
    static void startSaslBroker() throws IOException {
        Files.createDirectories(LOGS);
        Map<String, String> overrides = Map.of(
                "listener.security.protocol.map", EmbeddedKafka.CLIENT_LISTENER + ":SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                "listener.name.client.plain.sasl.jaas.config", plainLogin("broker", "broker-secret")
                        .replace(";", " user_broker=\"broker-secret\" user_" + USER + "=\"" + PASSWORD + "\";"));
        broker = EmbeddedKafka.start(0, null, overrides, clientSecurity(USER, PASSWORD));
        server = new DemoTcpServer(0, Duration.ZERO, Duration.ZERO);
    }

    @AfterAll
    static void stopBroker() {
        server.close();
        broker.close();
    }

    private static String plainLogin(String user, String password) {
        return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    /** The three client properties a service needs for this broker, as Kafka names them. */
    private static Map<String, String> clientSecurity(String user, String password) {
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", plainLogin(user, password));
    }

    /** The same, as {@code --set kafka.…} flags, plus the broker's address. */
    private static List<String> kafkaSets(String password) {
        List<String> sets = new ArrayList<>();
        sets.add("kafka.bootstrap.servers=" + broker.bootstrapServers());
        clientSecurity(USER, password).forEach((key, value) -> sets.add("kafka." + key + "=" + value));
        return sets;
    }

    private static List<String> sets(String password, String... more) {
        List<String> sets = new ArrayList<>(kafkaSets(password));
        sets.addAll(List.of(more));
        return sets;
    }

    @Test
    @Order(1)
    void agent_aggregator_and_query_api_authenticate_by_configuration_alone_and_samples_flow_end_to_end()
            throws Exception {
        int[] ports = EmbeddedKafka.freePorts(2, 0);
        int queryPort = ports[0];
        int agentPort = ports[1];
        Path agentLog = LOGS.resolve("sasl-agent.log");
        Files.deleteIfExists(agentLog);
        Instant from = Instant.now().minusSeconds(60);
        // Step 1: the aggregator creates the topics and aggregates, the query API serves what it emits.
        try (ServiceProcess aggregator = ServiceProcess.start(LOGS.resolve("sasl-aggregator.log"), "aggregator",
                sets(PASSWORD, "streams.applicationId=sasl-aggregator", "streams.stateDir=" + work.resolve("aggregator"),
                        "http.port=0", "window.grace=1s", "window.idleClose=3s"))) {
            await("histogram topics created over SASL (log " + aggregator.log() + ")").atMost(Duration.ofSeconds(90))
                    .until(() -> topics().contains(Topics.histograms(10)));
            try (ServiceProcess queryApi = ServiceProcess.start(LOGS.resolve("sasl-query-api.log"), "query-api",
                    sets(PASSWORD, "http.port=" + queryPort, "streams.applicationId=sasl-query-api",
                            "streams.stateDir=" + work.resolve("query-api")))) {
                // Step 2: an agent probes for a while, then stops cleanly and says how many it probed.
                long probed;
                try (ServiceProcess agent = ServiceProcess.start(agentLog, "agent", agentConfig(agentPort),
                        kafkaSets(PASSWORD))) {
                    await("agent sending over SASL (log " + agentLog + ")").atMost(Duration.ofSeconds(60))
                            .until(() -> agentMetric(agentPort, "tailprobe_agent_samples_sent_total") >= 50);
                    agent.stop();
                    probed = probed(agentLog);
                }
                Instant to = Instant.now().plusSeconds(60);

                // Step 3: every sample is in the topic, and the query API counts all of them in the windows.
                long inTopic = samplesInTopic();
                String query = "/api/v1/percentiles?target=" + TARGET + "&probe=tcp&from=" + from + "&to=" + to;
                await("the query API counting " + probed + " samples (log " + queryApi.log() + ")")
                        .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> count(queryPort, query) >= probed);
                long counted = count(queryPort, query);
                LOG.info("FAULT sasl-plain: agent probed {}, in the topic {}, counted by the query API {}", probed, inTopic,
                        counted);
                assertThat(probed).isGreaterThanOrEqualTo(50);
                assertThat(inTopic).isEqualTo(probed);
                assertThat(counted).isEqualTo(probed);
            }
        }
    }

    @Test
    @Order(2)
    void a_wrong_password_stops_the_aggregator_at_start_and_the_agent_says_why_it_spools() throws Exception {
        Path aggregatorLog = LOGS.resolve("sasl-wrong-password-aggregator.log");
        Path agentLog = LOGS.resolve("sasl-wrong-password-agent.log");
        Files.deleteIfExists(aggregatorLog);
        Files.deleteIfExists(agentLog);
        int agentPort = EmbeddedKafka.freePort();
        try (ServiceProcess aggregator = ServiceProcess.start(aggregatorLog, "aggregator",
                sets("wrong", "streams.applicationId=sasl-wrong", "streams.stateDir=" + work.resolve("wrong"),
                        "http.port=0"));
             ServiceProcess agent = ServiceProcess.start(agentLog, "agent", agentConfig(agentPort), kafkaSets("wrong"))) {
            assertThat(aggregator.waitFor(Duration.ofSeconds(90))).as("the aggregator exits (log %s)", aggregatorLog)
                    .isNotNull().isNotZero();
            assertThat(Files.readString(aggregatorLog)).contains("Authentication failed");

            await("the agent naming the failure and spooling (log " + agentLog + ")").atMost(Duration.ofSeconds(60))
                    .until(() -> Files.readString(agentLog).contains("Authentication failed")
                            && agentMetric(agentPort, "tailprobe_agent_samples_spooled_total") > 0);
            assertThat(agentMetric(agentPort, "tailprobe_agent_samples_sent_total")).isZero();
        }
    }

    private static Path agentConfig(int httpPort) throws IOException {
        String yaml = "agent: {id: sasl-agent}\n"
                + "http: {port: " + httpPort + "}\n"
                + "spool: {directory: '" + work.resolve("spool-" + httpPort) + "'}\n"
                + "targets:\n"
                + "  - {name: " + TARGET + ", type: tcp, address: '" + server.address() + "', interval: 100ms}\n";
        return Files.writeString(work.resolve("agent-" + httpPort + ".yaml"), yaml);
    }

    private static List<String> topics() throws Exception {
        Map<String, Object> props = new HashMap<>(clientSecurity(USER, PASSWORD));
        props.put(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            return List.copyOf(admin.listTopics().names().get(10, TimeUnit.SECONDS));
        }
    }

    private static long samplesInTopic() {
        Map<String, Object> props = new HashMap<>(clientSecurity(USER, PASSWORD));
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return CommittedRecords.of(props, Topics.SAMPLES).stream()
                .filter(record -> Topics.sampleSerde().decode(record.value()).getTarget().equals(TARGET)).count();
    }

    /** The samples a percentile query counted, or -1 while the query API cannot answer it. */
    private static long count(int port, String pathAndQuery) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + port + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return -1;
            }
            JsonNode body = JSON.readTree(response.body());
            return body.get("count").asLong();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static double agentMetric(int port, String name) {
        try {
            String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(body);
            double sum = 0;
            while (m.find()) {
                sum += Double.parseDouble(m.group(2));
            }
            return sum;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static long probed(Path agentLog) throws IOException {
        Matcher m = STOPPED.matcher(Files.readString(agentLog));
        assertThat(m.find()).as("the agent's stop line in " + agentLog).isTrue();
        assertThat(m.group(2)).as("all probed samples sent").isEqualTo(m.group(1));
        return Long.parseLong(m.group(1));
    }
}
