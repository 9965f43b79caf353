package io.tailprobe.standalone;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Tailprobe service ({@code tailprobe aggregator --set …}) in a JVM of its own, built from this
 * test's class path, so a test can kill it the hard way ({@code SIGKILL}: no shutdown hook, no
 * close, no commit) or stop it cleanly ({@code SIGTERM}). Its output goes to a log file.
 */
final class ServiceProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ServiceProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static ServiceProcess start(Path log, String command, List<String> sets) throws IOException {
        return start(log, command, null, sets);
    }

    /** @param configFile the service's YAML file ({@code --config}), or null */
    static ServiceProcess start(Path log, String command, Path configFile, List<String> sets) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(ProcessHandle.current().info().command().orElse("java"));
        argv.add("-Xmx512m");
        argv.add("--enable-native-access=ALL-UNNAMED");
        argv.add("--add-exports");
        argv.add("java.base/sun.nio.ch=ALL-UNNAMED");
        argv.add("-cp");
        argv.add(System.getProperty("java.class.path"));
        argv.add(TailprobeCli.class.getName());
        argv.add(command);
        if (configFile != null) {
            argv.add("--config");
            argv.add(configFile.toString());
        }
        for (String set : sets) {
            argv.add("--set");
            argv.add(set);
        }
        Process process = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new ServiceProcess(process, log);
    }

    /** Waits up to {@code timeout} for the process to end by itself: its exit code, or null while it runs. */
    Integer waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, and waits for the process to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM (the service closes itself from its shutdown hook), and waits up to 60 s. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("service did not stop within 60 s after SIGTERM; log " + log);
        }
    }

    Path log() {
        return log;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
