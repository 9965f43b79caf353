package io.tailprobe.standalone;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * A demo target on loopback: for every line it reads it waits a delay, then answers
 * {@code pong <line>}. The delay is {@code base} plus, if {@code jitterMean} is positive, an
 * exponentially distributed extra with that mean, so the demo's percentiles have a tail.
 */
public final class DemoTcpServer implements AutoCloseable {
    private final ServerSocket server;
    private final Duration base;
    private final Duration jitterMean;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();

    public DemoTcpServer(int port, Duration base, Duration jitterMean) {
        this.base = base;
        this.jitterMean = jitterMean;
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
        } catch (IOException e) {
            throw new UncheckedIOException("demo TCP server cannot listen on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
        Thread.ofVirtual().name("demo-tcp-accept-" + port()).start(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.submit(() -> serve(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket;
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                OutputStream out = socket.getOutputStream()) {
            String line;
            while ((line = in.readLine()) != null) {
                LockSupport.parkNanos(delayNanos());
                out.write(("pong " + line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException peerWentAway) {
            // the prober closed its side; nothing to answer
        }
    }

    private long delayNanos() {
        long nanos = base.toNanos();
        if (jitterMean.isPositive()) {
            nanos += (long) (-Math.log(1.0 - ThreadLocalRandom.current().nextDouble()) * jitterMean.toNanos());
        }
        return nanos;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        connections.shutdownNow();
    }
}
