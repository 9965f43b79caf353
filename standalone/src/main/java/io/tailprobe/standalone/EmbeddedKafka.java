package io.tailprobe.standalone;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real, single-node Kafka broker in this JVM: Kafka's own KRaft server (combined broker and
 * controller) from Kafka's jars, its storage formatted as {@code kafka-storage.sh format} would.
 * Internal topics use replication factor 1 so consumer groups and transactions work on one node.
 * Not for production: one node, no replication.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** The name of the listener clients connect to, PLAINTEXT unless the overrides map it otherwise. */
    public static final String CLIENT_LISTENER = "CLIENT";

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private final int port;

    private EmbeddedKafka(KafkaRaftServer server, Path dataDir, boolean deleteOnClose, int port) {
        this.server = server;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.port = port;
    }

    /** A broker on a free port with its data in a temporary folder deleted on close. */
    public static EmbeddedKafka start() {
        return start(0, null, Map.of());
    }

    /**
     * @param port the client port (PLAINTEXT on localhost); 0 picks a free one
     * @param dataDir where the log and metadata live; null for a temporary folder deleted on close.
     *     An existing, formatted folder is reused with its data.
     * @param overrides broker properties that win over the defaults, e.g. a SASL listener
     */
    public static EmbeddedKafka start(int port, Path dataDir, Map<String, String> overrides) {
        return start(port, dataDir, overrides, Map.of());
    }

    /**
     * A broker whose client listener ({@value #CLIENT_LISTENER}) the overrides may secure, e.g. SASL/PLAIN:
     * {@code listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT},
     * {@code sasl.enabled.mechanisms=PLAIN}, {@code sasl.mechanism.inter.broker.protocol=PLAIN} and the
     * users in {@code listener.name.client.plain.sasl.jaas.config}. The controller listener stays plain.
     *
     * @param clientProperties what a client needs to connect (security.protocol, sasl.*), used to wait
     *     until the broker answers
     */
    public static EmbeddedKafka start(int port, Path dataDir, Map<String, String> overrides,
                                      Map<String, String> clientProperties) {
        int[] ports = freePorts(2, port);
        int clientPort = port == 0 ? ports[0] : port;
        int controllerPort = ports[1];
        boolean temporary = dataDir == null;
        try {
            Path dir = temporary ? Files.createTempDirectory("tailprobe-kafka-") : Files.createDirectories(dataDir);
            Properties props = new Properties();
            props.put("process.roles", "broker,controller");
            props.put("node.id", "1");
            props.put("controller.quorum.voters", "1@localhost:" + controllerPort);
            props.put("listeners", CLIENT_LISTENER + "://localhost:" + clientPort + ",CONTROLLER://localhost:" + controllerPort);
            props.put("advertised.listeners", CLIENT_LISTENER + "://localhost:" + clientPort);
            props.put("listener.security.protocol.map", CLIENT_LISTENER + ":PLAINTEXT,CONTROLLER:PLAINTEXT");
            props.put("controller.listener.names", "CONTROLLER");
            props.put("inter.broker.listener.name", CLIENT_LISTENER);
            props.put("log.dirs", dir.resolve("logs").toString());
            props.put("offsets.topic.replication.factor", "1");
            props.put("offsets.topic.num.partitions", "1");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("transaction.state.log.num.partitions", "1");
            props.put("share.coordinator.state.topic.replication.factor", "1");
            props.put("share.coordinator.state.topic.min.isr", "1");
            props.put("group.initial.rebalance.delay.ms", "0");
            props.put("num.partitions", "1");
            props.putAll(overrides);

            Path propsFile = dir.resolve("server.properties");
            try (OutputStream out = Files.newOutputStream(propsFile)) {
                props.store(out, "written by Tailprobe's EmbeddedKafka");
            }
            format(propsFile, dir.resolve("logs"));
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props), Time.SYSTEM);
            server.startup();
            EmbeddedKafka kafka = new EmbeddedKafka(server, dir, temporary, clientPort);
            kafka.awaitReady(clientProperties, Duration.ofSeconds(60));
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the embedded broker's data folder", e);
        }
    }

    private static void format(Path propsFile, Path logDir) throws IOException {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int exit = StorageTool.execute(new String[] {"format", "--cluster-id", clusterId(logDir),
                "--config", propsFile.toString(), "--ignore-formatted"},
                new PrintStream(output, true, StandardCharsets.UTF_8));
        if (exit != 0) {
            throw new IllegalStateException("formatting the embedded broker's storage failed (exit " + exit + "): "
                    + output.toString(StandardCharsets.UTF_8));
        }
    }

    /**
     * The cluster id of a folder formatted before (a restart), or a new one: Kafka 4's formatter
     * rejects a formatted folder whose cluster id differs, even with {@code --ignore-formatted}.
     */
    private static String clusterId(Path logDir) throws IOException {
        Path meta = logDir.resolve("meta.properties");
        if (Files.exists(meta)) {
            Properties properties = new Properties();
            try (InputStream in = Files.newInputStream(meta)) {
                properties.load(in);
            }
            String clusterId = properties.getProperty("cluster.id");
            if (clusterId != null) {
                return clusterId;
            }
        }
        return Uuid.randomUuid().toString();
    }

    private void awaitReady(Map<String, String> clientProperties, Duration timeout) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(props)) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("embedded broker on port " + port + " not ready after "
                                + timeout.toSeconds() + " s", notYet);
                    }
                }
            }
        }
    }

    public String bootstrapServers() {
        return "localhost:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (deleteOnClose) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary folder; the OS cleans what is left
            }
        }
    }

    static int freePort() {
        return freePorts(1, 0)[0];
    }

    /**
     * {@code count} distinct free ports, none equal to {@code taken}. The sockets are all held open until
     * every port is chosen: closed one at a time, the OS may hand the same ephemeral port out twice (CI
     * once gave the client and the controller listener the same one).
     */
    static int[] freePorts(int count, int taken) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            int chosen = 0;
            while (chosen < count) {
                ServerSocket socket = new ServerSocket(0); // held open, so the next one differs
                sockets.add(socket);
                if (socket.getLocalPort() != taken) {
                    ports[chosen++] = socket.getLocalPort();
                }
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on this machine", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // it was only held to reserve a number
                }
            }
        }
    }
}
