package io.tailprobe.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A loopback TCP server for probe tests: one virtual thread per connection runs the handler. */
public final class TestTcpServer implements AutoCloseable {
    /** What the server does with one accepted connection. */
    @FunctionalInterface
    public interface Handler {
        void handle(Socket socket) throws IOException, InterruptedException;
    }

    private final ServerSocket server;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();

    private TestTcpServer(Handler handler) throws IOException {
        server = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    accepted.incrementAndGet();
                    open.add(socket);
                    Thread.ofVirtual().start(() -> {
                        try (socket) {
                            handler.handle(socket);
                        } catch (IOException | InterruptedException ignored) {
                            // the probe or the test closed the connection
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    public static TestTcpServer start(Handler handler) {
        try {
            return new TestTcpServer(handler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Accepts and closes at once: a connect-only target. */
    public static TestTcpServer acceptOnly() {
        return start(socket -> { });
    }

    /** Reads one line, waits {@code delay}, writes {@code reply}. */
    public static TestTcpServer replying(Duration delay, String reply) {
        return start(socket -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            if (in.readLine() == null) {
                return;
            }
            Thread.sleep(delay);
            OutputStream out = socket.getOutputStream();
            out.write(reply.getBytes(StandardCharsets.UTF_8));
            out.flush();
        });
    }

    /** Writes {@code banner} on connect without reading anything. */
    public static TestTcpServer banner(String banner) {
        return start(socket -> {
            socket.getOutputStream().write(banner.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        });
    }

    /** Accepts and keeps the connection open without ever writing. */
    public static TestTcpServer silent() {
        return start(socket -> {
            while (socket.getInputStream().read() >= 0) {
                // swallow whatever the probe sends
            }
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    public int accepted() {
        return accepted.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : open) {
            socket.close();
        }
    }
}
