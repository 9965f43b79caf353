package io.tailprobe.common;

import java.util.concurrent.CountDownLatch;

/** How every service command runs: until the JVM is told to stop (Ctrl-C, SIGTERM), then closes cleanly. */
public final class Lifecycle {
    private Lifecycle() {}

    /**
     * Blocks until JVM shutdown begins, then closes {@code service} from a shutdown hook (so queued
     * work is flushed before the JVM exits). If the calling thread is interrupted instead, closes the
     * service itself.
     */
    public static void runUntilStopped(String name, AutoCloseable service) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            closeQuietly(name, service);
            stopped.countDown();
        }, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stopped.await();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
                closeQuietly(name, service);
            } catch (IllegalStateException shuttingDown) {
                // the hook is already closing the service
            }
        }
    }

    private static void closeQuietly(String name, AutoCloseable service) {
        try {
            service.close();
        } catch (Exception e) {
            System.err.println(name + ": error while stopping: " + e);
        }
    }
}
