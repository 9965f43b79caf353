package io.tailprobe.agent;

import io.tailprobe.common.Lifecycle;
import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigOptions;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code agent}: runs the probe agent until the JVM is told to stop (SIGINT/SIGTERM), then closes it
 * from a shutdown hook so queued samples are flushed. A bad configuration prints the rule and key and
 * exits with {@link #EXIT_CONFIG}.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Probe targets on a schedule and send latency samples to Kafka.")
public final class AgentCommand implements Callable<Integer> {
    /** The exit code for a bad configuration. */
    public static final int EXIT_CONFIG = 2;
    /** How often the configuration file is compared with the last version seen. */
    static final java.time.Duration RELOAD_CHECK_PERIOD = java.time.Duration.ofSeconds(2);
    private static final Logger LOG = LoggerFactory.getLogger(AgentCommand.class);

    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentCommand()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        ProbeAgent agent;
        try {
            agent = ProbeAgent.start(AgentConfig.load(options));
        } catch (ConfigException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("configuration error: " + e.getMessage());
            err.flush();
            return EXIT_CONFIG;
        }
        ConfigWatcher watcher = options.configFile() == null ? null
                : new ConfigWatcher(options.configFile(), () -> AgentConfig.load(options), agent, RELOAD_CHECK_PERIOD);
        String started = "agent " + agent.agentId() + " probing " + agent.targetCount()
                + " targets; metrics at http://localhost:" + agent.httpPort() + "/metrics";
        LOG.info(started);
        PrintWriter out = spec.commandLine().getOut();
        out.println(started);
        out.flush();
        Lifecycle.runUntilStopped("agent", () -> {
            if (watcher != null) {
                watcher.close();
            }
            agent.close();
        });
        return 0;
    }
}
