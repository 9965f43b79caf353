package io.tailprobe.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the agent's configuration when its file changes: every {@code period} it compares the
 * file's bytes with the last ones seen (robust to editors that replace the file on save) and, on a
 * change, loads the configuration again (file, environment, flags) and hands it to
 * {@link ProbeAgent#reload(AgentConfig)}. A file that does not parse or validate keeps the running
 * configuration; the error is logged and counted, never fatal. Every
 * {@link TargetSources#REFRESH} it also has the agent expand {@code fileSd} and {@code resolve}
 * targets again.
 */
final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final Path file;
    private final Supplier<AgentConfig> loader;
    private final ProbeAgent agent;
    private final Duration period;
    private final Thread thread;
    private volatile boolean stopped;
    private byte[] lastSeen;

    ConfigWatcher(Path file, Supplier<AgentConfig> loader, ProbeAgent agent, Duration period) {
        this.file = file;
        this.loader = loader;
        this.agent = agent;
        this.period = period;
        this.lastSeen = read();
        this.thread = Thread.ofVirtual().name("config-watcher").start(this::watch);
    }

    private void watch() {
        long lastRefresh = System.nanoTime();
        while (!stopped) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            checkOnce();
            if (System.nanoTime() - lastRefresh >= TargetSources.REFRESH.toNanos()) {
                lastRefresh = System.nanoTime();
                agent.refreshTargetSources();
            }
        }
    }

    /** Reloads if the file changed since the last look; package-visible for tests. */
    void checkOnce() {
        byte[] now = read();
        if (now == null || Arrays.equals(now, lastSeen)) {
            return;
        }
        lastSeen = now;
        AgentConfig config;
        try {
            config = loader.get();
        } catch (RuntimeException e) {
            agent.metrics().configReloaded(false);
            LOG.error("{} changed but does not load, still probing the previous targets: {}", file, e.getMessage());
            return;
        }
        agent.reload(config);
    }

    private byte[] read() {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            LOG.warn("cannot read {} to check for changes: {}", file, e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}
