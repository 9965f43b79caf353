package io.tailprobe.aggregator;

import io.tailprobe.common.Lifecycle;
import io.tailprobe.common.ConfigOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tailprobe aggregator}: runs the Kafka Streams aggregator until interrupted. */
@Command(name = "aggregator", mixinStandardHelpOptions = true,
        description = "Aggregate latency.samples into per-window HdrHistograms on latency.histograms.<resolution>.")
public final class AggregatorCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws InterruptedException {
        AggregatorConfig config = options.load(AggregatorConfig.class, AggregatorConfig.defaults()).validated();
        Aggregator aggregator = Aggregator.start(config);
        System.out.printf("aggregator %s reading %s from %s%n", config.streams().applicationId(),
                config.topics().samples(), config.kafka().get("bootstrap.servers"));
        Lifecycle.runUntilStopped("aggregator", aggregator);
        return 0;
    }
}
