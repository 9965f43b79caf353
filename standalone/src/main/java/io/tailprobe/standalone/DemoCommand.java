package io.tailprobe.standalone;

import io.tailprobe.common.Lifecycle;
import io.tailprobe.common.ConfigOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tailprobe demo}: the whole pipeline on this machine, with built-in demo targets. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start an embedded Kafka broker, the aggregator, the query API and a probe agent "
                + "probing built-in demo targets; Ctrl-C stops everything.")
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws InterruptedException {
        DemoConfig config = options.load(DemoConfig.class, DemoConfig.defaults()).validated();
        long startNanos = System.nanoTime();
        DemoStack stack = new DemoStack(config);
        String api = "http://localhost:" + stack.queryApiPort();
        System.out.printf("""

                Tailprobe is running (started in %.1f s).
                  Dashboard      %s/
                  Kafka broker   %s
                  Series         %s/api/v1/series
                  Percentiles    %s/api/v1/percentiles?target=%s&probe=tcp&quantiles=0.5,0.99,0.999
                  Health         %s/health
                  Agent metrics  http://localhost:%d/metrics   (POST /check probes every target now)
                  Aggregator     http://localhost:%d/metrics
                The first 10 s windows close about %d s after their end; until then the series list is empty.
                Ctrl-C stops everything.
                %n""", (System.nanoTime() - startNanos) / 1e9, api, stack.bootstrapServers(), api, api,
                DemoStack.STEADY_TARGET, api, stack.agentPort(), stack.aggregatorPort(), config.grace().toSeconds());
        Lifecycle.runUntilStopped("demo", () -> {
            System.out.println("stopping Tailprobe...");
            stack.close();
        });
        return 0;
    }
}
