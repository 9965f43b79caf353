package io.tailprobe.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The TCP target of bench/probe-rate.sh: listens on PORTS consecutive ports from FIRST_PORT and
 * closes every connection as soon as it is accepted, which is all a TCP connect probe asks of a
 * server (the kernel completes the handshake before {@code accept}; accepting only keeps the
 * listen queue from filling).
 *
 * <p>Several ports, because a probe closes its side first and leaves a TIME_WAIT socket behind:
 * Linux reuses those on loopback only after a second, so one destination port gives at most the
 * ~28,000 local ports of {@code ip_local_port_range} per second; 16 ports leave room for 40,000
 * probes a second and more.
 *
 * <p>Usage: {@code ProbeRateTarget HOST FIRST_PORT PORTS}; one platform thread per port, runs until
 * killed.
 */
public final class ProbeRateTarget {
    /** The kernel caps it at {@code net.core.somaxconn} (4096 by default). */
    private static final int BACKLOG = 4096;

    private ProbeRateTarget() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: ProbeRateTarget HOST FIRST_PORT PORTS");
            System.exit(2);
        }
        InetAddress host = InetAddress.getByName(args[0]);
        int firstPort = Integer.parseInt(args[1]);
        int ports = Integer.parseInt(args[2]);
        List<Thread> acceptors = new ArrayList<>();
        for (int port = firstPort; port < firstPort + ports; port++) {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(host, port), BACKLOG);
            acceptors.add(Thread.ofPlatform().name("accept-" + port).start(() -> acceptAndClose(server)));
        }
        System.out.println("listening on " + host.getHostAddress() + " ports " + firstPort + ".." + (firstPort + ports - 1));
        for (Thread acceptor : acceptors) {
            acceptor.join();
        }
    }

    private static void acceptAndClose(ServerSocketChannel server) {
        while (true) {
            try {
                SocketChannel connection = server.accept();
                connection.close();
            } catch (IOException e) {
                System.err.println("accept on " + server.socket().getLocalSocketAddress() + " failed: " + e);
                return;
            }
        }
    }
}
