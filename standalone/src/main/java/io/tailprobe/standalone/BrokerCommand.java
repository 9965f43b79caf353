package io.tailprobe.standalone;

import io.tailprobe.common.Lifecycle;
import io.tailprobe.schemas.TopicSpecs;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tailprobe broker}: the embedded Kafka broker alone, for a multi-process setup on one machine. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Run a single-node Kafka broker (KRaft, in-process) with Tailprobe's topics.")
public final class BrokerCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "9092", description = "client port on localhost (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--data-dir", description = "data folder, kept across runs (default: a temporary folder)")
    Path dataDir;

    @Option(names = "--partitions", defaultValue = "6", description = "partitions of latency.samples (the aggregator gives its histogram topics as many)")
    int partitions;

    @Override
    public Integer call() throws InterruptedException {
        EmbeddedKafka kafka = EmbeddedKafka.start(port, dataDir, Map.of());
        Properties admin = new Properties();
        admin.put("bootstrap.servers", kafka.bootstrapServers());
        try (Admin client = Admin.create(admin)) {
            TopicSpecs.ensure(client, partitions, (short) 1);
        }
        System.out.printf("Kafka broker at %s (data in %s); Ctrl-C stops it%n", kafka.bootstrapServers(), kafka.dataDir());
        Lifecycle.runUntilStopped("broker", kafka);
        return 0;
    }
}
