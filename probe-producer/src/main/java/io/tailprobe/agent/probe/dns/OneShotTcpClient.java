package io.tailprobe.agent.probe.dns;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.xbill.DNS.Message;
import org.xbill.DNS.io.TcpIoClient;

/**
 * DNS over TCP with a new connection for every query, closed after the reply. dnsjava's own client
 * keeps one connection per resolver open JVM-wide and pipelines every query over it, so a
 * {@code dns/tcp} probe would time a handshake once and then a warm connection forever, and would
 * report the resolver's idle-connection close as a failed probe. One query runs at a time per probe,
 * which lets the probe read the connect time of the last query.
 */
final class OneShotTcpClient implements TcpIoClient {
    private volatile long lastConnectNanos = -1;

    @Override
    public CompletableFuture<byte[]> sendAndReceiveTcp(InetSocketAddress local, InetSocketAddress remote, Message query,
                                                       byte[] data, Duration timeout) {
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        lastConnectNanos = -1;
        Thread.ofVirtual().name("dns-tcp-" + remote).start(() -> {
            try {
                reply.complete(exchange(local, remote, data, System.nanoTime() + timeout.toNanos()));
            } catch (IOException | RuntimeException e) {
                reply.completeExceptionally(e);
            }
        });
        return reply;
    }

    /** The TCP handshake of the last query, or -1 when it did not connect. */
    long lastConnectNanos() {
        return lastConnectNanos;
    }

    private byte[] exchange(InetSocketAddress local, InetSocketAddress remote, byte[] data, long deadlineNanos)
            throws IOException {
        try (Socket socket = new Socket()) {
            if (local != null) {
                socket.bind(local);
            }
            long start = System.nanoTime();
            socket.connect(remote, remainingMillis(deadlineNanos, "connect"));
            lastConnectNanos = System.nanoTime() - start;
            socket.setTcpNoDelay(true);
            byte[] framed = new byte[data.length + 2];
            framed[0] = (byte) (data.length >>> 8);
            framed[1] = (byte) data.length;
            System.arraycopy(data, 0, framed, 2, data.length);
            OutputStream out = socket.getOutputStream();
            out.write(framed);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            socket.setSoTimeout(remainingMillis(deadlineNanos, "read"));
            byte[] response = new byte[in.readUnsignedShort()];
            socket.setSoTimeout(remainingMillis(deadlineNanos, "read"));
            in.readFully(response);
            return response;
        }
    }

    /** Whole milliseconds left, rounded up so a sub-millisecond remainder is not 0 (= wait forever). */
    private static int remainingMillis(long deadlineNanos, String phase) throws SocketTimeoutException {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
            throw new SocketTimeoutException(phase + " timed out");
        }
        return (int) Math.min(Integer.MAX_VALUE, (remaining + 999_999) / 1_000_000);
    }
}
