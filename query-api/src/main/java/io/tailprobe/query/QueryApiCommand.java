package io.tailprobe.query;

import io.tailprobe.common.Lifecycle;
import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code query-api}: materializes {@code latency.histograms.<resolution>} and serves the query API until interrupted. */
@Command(name = "query-api", mixinStandardHelpOptions = true,
        description = "Serve percentiles of the stored latency windows over HTTP.")
public final class QueryApiCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    public static void main(String[] args) {
        System.exit(new CommandLine(new QueryApiCommand()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        QueryApiConfig config;
        try {
            config = QueryApiConfig.load(options);
        } catch (ConfigException e) {
            System.err.println("query-api: " + e.getMessage());
            return 2;
        }
        QueryService service = QueryService.start(config);
        System.out.println("query API at http://localhost:" + service.port() + "/api/v1/series");
        Lifecycle.runUntilStopped("query-api", service);
        return 0;
    }
}
