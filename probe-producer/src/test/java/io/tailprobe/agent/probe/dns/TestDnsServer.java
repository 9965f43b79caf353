package io.tailprobe.agent.probe.dns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * An authoritative loopback DNS server for probe tests, on one port over UDP and TCP: A records for the
 * names it is given, NOERROR with no answers for other types of those names, NXDOMAIN for any other
 * name. When {@link #silent()} it reads queries and never answers. It records every query it reads and
 * keeps a TCP connection open for more queries until the client closes it.
 */
public final class TestDnsServer implements AutoCloseable {
    /** One query as the server read it, e.g. {@code udp A known.test.}. */
    record Query(String transport, String type, String name) {}

    private final Map<Name, List<InetAddress>> zone = new ConcurrentHashMap<>();
    private final Map<Name, List<SRVRecord>> services = new ConcurrentHashMap<>();
    private final List<Query> queries = new CopyOnWriteArrayList<>();
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private volatile boolean silent;

    private TestDnsServer(DatagramSocket udp, ServerSocket tcp) {
        this.udp = udp;
        this.tcp = tcp;
        Thread.ofVirtual().name("test-dns-udp").start(this::serveUdp);
        Thread.ofVirtual().name("test-dns-tcp").start(this::serveTcp);
    }

    /** Binds UDP and TCP to the same free loopback port. */
    public static TestDnsServer start() {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            DatagramSocket udp = null;
            try {
                udp = new DatagramSocket(new InetSocketAddress(loopback, 0));
                ServerSocket tcp = new ServerSocket(udp.getLocalPort(), 50, loopback);
                return new TestDnsServer(udp, tcp);
            } catch (IOException e) {
                last = e;
                if (udp != null) {
                    udp.close();
                }
            }
        }
        throw new UncheckedIOException("no free port for both UDP and TCP", last);
    }

    /** Serves {@code name} with these A records. */
    public TestDnsServer withA(String name, String... ips) {
        try {
            List<InetAddress> addresses = new ArrayList<>();
            for (String ip : ips) {
                addresses.add(Address.getByAddress(ip));
            }
            zone.put(Name.fromString(name, Name.root), List.copyOf(addresses));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Serves {@code name} (e.g. {@code _db._tcp.test.}) with SRV records, each "host:port". */
    public TestDnsServer withSrv(String name, String... hostPorts) {
        try {
            Name service = Name.fromString(name, Name.root);
            List<SRVRecord> records = new ArrayList<>();
            for (String hostPort : hostPorts) {
                int colon = hostPort.lastIndexOf(':');
                records.add(new SRVRecord(service, DClass.IN, 60, 10, 10, Integer.parseInt(hostPort.substring(colon + 1)),
                        Name.fromString(hostPort.substring(0, colon), Name.root)));
            }
            services.put(service, List.copyOf(records));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** From now on reads queries without answering. */
    public void silent() {
        silent = true;
    }

    /** The address a probe targets, e.g. {@code 127.0.0.1:40123}. */
    public String address() {
        return "127.0.0.1:" + udp.getLocalPort();
    }

    /** TCP connections accepted so far. */
    int connectionsAccepted() {
        return connections.size();
    }

    List<Query> queries() {
        return List.copyOf(queries);
    }

    private void serveUdp() {
        byte[] buffer = new byte[65_535];
        while (!udp.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                byte[] reply = answer("udp", Arrays.copyOf(packet.getData(), packet.getLength()));
                if (reply != null) {
                    udp.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
                }
            } catch (SocketException closed) {
                return;
            } catch (IOException e) {
                // a malformed query: ignore it like a real server would
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try {
                Socket socket = tcp.accept();
                connections.add(socket);
                Thread.ofVirtual().start(() -> serveConnection(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serveConnection(Socket socket) {
        try (socket) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            while (true) {
                byte[] query = new byte[in.readUnsignedShort()];
                in.readFully(query);
                byte[] reply = answer("tcp", query);
                if (reply != null) {
                    out.writeShort(reply.length);
                    out.write(reply);
                    out.flush();
                }
            }
        } catch (EOFException | SocketException done) {
            // the client closed the connection, or the server stopped
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] answer(String transport, byte[] wire) throws IOException {
        Message query = new Message(wire);
        Record question = query.getQuestion();
        queries.add(new Query(transport, Type.string(question.getType()), question.getName().toString()));
        if (silent) {
            return null;
        }
        Message response = new Message(query.getHeader().getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setFlag(Flags.AA);
        if (query.getHeader().getFlag(Flags.RD)) {
            response.getHeader().setFlag(Flags.RD);
        }
        response.addRecord(question, Section.QUESTION);
        List<InetAddress> addresses = zone.get(question.getName());
        List<SRVRecord> srv = services.get(question.getName());
        if (srv != null && question.getType() == Type.SRV) {
            srv.forEach(record -> response.addRecord(record, Section.ANSWER));
        } else if (addresses == null) {
            response.getHeader().setRcode(Rcode.NXDOMAIN);
        } else if (question.getType() == Type.A) {
            for (InetAddress address : addresses) {
                response.addRecord(new ARecord(question.getName(), DClass.IN, 60, address), Section.ANSWER);
            }
        }
        return response.toWire();
    }

    @Override
    public void close() throws IOException {
        udp.close();
        tcp.close();
        for (Socket connection : connections) {
            connection.close();
        }
    }
}
