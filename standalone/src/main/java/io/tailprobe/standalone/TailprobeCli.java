package io.tailprobe.standalone;

import io.tailprobe.aggregator.AggregatorCommand;
import io.tailprobe.common.ConfigException;
import io.tailprobe.standalone.replay.ReplayCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tailprobe} command: the one-command demo stack, any one service as its own process, or a
 * replay of raw samples.
 */
@Command(name = "tailprobe", mixinStandardHelpOptions = true, version = "tailprobe 0.1.0",
        description = "Fleet-wide network latency with exact percentiles.",
        subcommands = {DemoCommand.class, BrokerCommand.class, io.tailprobe.agent.AgentCommand.class,
                AggregatorCommand.class, io.tailprobe.query.QueryApiCommand.class, ReplayCommand.class})
public final class TailprobeCli {
    private TailprobeCli() {}

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(TailprobeCli.class);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException) {
                commandLine.getErr().println("configuration error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        System.exit(cli.execute(args.length == 0 ? new String[] {"demo"} : args));
    }
}
