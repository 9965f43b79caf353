package io.tailprobe.agent.probe.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.AgentConfig.DnsOptions;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.Probes;
import io.tailprobe.agent.probe.dns.DnsProbe.Exchange;
import io.tailprobe.agent.probe.dns.TestDnsServer.Query;
import io.tailprobe.schemas.Outcome;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DnsProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private TestDnsServer server;

    @BeforeEach
    void startServer() {
        server = TestDnsServer.start()
                .withA("known.test", "10.0.0.7", "10.0.0.8")
                .withA("single.test", "192.0.2.1");
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
    }

    @Test
    void a_known_name_over_udp_is_ok_with_the_served_answers() throws Exception {
        DnsProbe probe = probe(server.address(), new DnsOptions("known.test", null, null, null), TIMEOUT);

        Exchange exchange = probe.exchange();

        assertThat(exchange.result().outcome()).isEqualTo(Outcome.OK);
        assertThat(exchange.result().statusCode()).isZero();
        assertThat(exchange.answerCount()).isEqualTo(2);
        assertThat(exchange.result().errorDetail()).isNull();
        assertThat(exchange.result().address()).isEqualTo(server.address());
        assertThat(exchange.result().phases().getFirstByteNanos()).isPositive();
        assertThat(probe.protocol()).isEqualTo("dns/udp");
        assertThat(server.queries()).containsExactly(new Query("udp", "A", "known.test."));
        assertThat(probe.probe().answerCount()).as("the probe's result carries the count into the sample").isEqualTo(2);
    }

    @Test
    void a_known_name_over_tcp_is_ok_with_the_served_answers() throws Exception {
        DnsProbe probe = probe(server.address(), new DnsOptions("single.test", "a", "TCP", "^192\\.0\\.2\\.1$"), TIMEOUT);

        Exchange exchange = probe.exchange();

        assertThat(exchange.result().outcome()).isEqualTo(Outcome.OK);
        assertThat(exchange.result().statusCode()).isZero();
        assertThat(exchange.answerCount()).isEqualTo(1);
        assertThat(exchange.result().connectionReused()).isFalse();
        assertThat(exchange.result().phases().getConnectNanos()).isPositive();
        assertThat(exchange.result().phases().getFirstByteNanos()).isPositive();
        assertThat(probe.protocol()).isEqualTo("dns/tcp");
        assertThat(server.queries()).containsExactly(new Query("tcp", "A", "single.test."));
    }

    @Test
    void every_tcp_probe_opens_its_own_connection() throws Exception {
        DnsProbe probe = probe(server.address(), new DnsOptions("known.test", null, "tcp", null), TIMEOUT);

        assertThat(probe.probe().outcome()).isEqualTo(Outcome.OK);
        assertThat(probe.probe().outcome()).isEqualTo(Outcome.OK);
        assertThat(probe.probe().outcome()).isEqualTo(Outcome.OK);

        assertThat(server.connectionsAccepted()).isEqualTo(3);
        assertThat(server.queries()).hasSize(3);
    }

    @Test
    void an_unknown_name_is_a_dns_error_with_rcode_3_named_in_the_detail() throws Exception {
        Exchange exchange = probe(server.address(), new DnsOptions("missing.test", null, null, null), TIMEOUT)
                .exchange();

        assertThat(exchange.result().outcome()).isEqualTo(Outcome.DNS_ERROR);
        assertThat(exchange.result().statusCode()).isEqualTo(3);
        assertThat(exchange.answerCount()).isZero();
        assertThat(exchange.result().errorDetail())
                .isEqualTo("NXDOMAIN for A missing.test. to " + server.address() + " over udp");
    }

    @Test
    void answers_that_do_not_contain_the_expected_pattern_fail_validation() throws Exception {
        Exchange exchange = probe(server.address(), new DnsOptions("known.test", null, null, "10\\.0\\.0\\.9"), TIMEOUT)
                .exchange();

        assertThat(exchange.result().outcome()).isEqualTo(Outcome.VALIDATION_FAILED);
        assertThat(exchange.result().statusCode()).isZero();
        assertThat(exchange.answerCount()).isEqualTo(2);
        assertThat(exchange.result().errorDetail()).isEqualTo("no answer matches /10\\.0\\.0\\.9/ in 10.0.0.7, 10.0.0.8");
    }

    @Test
    void noerror_without_answers_fails_validation_when_an_answer_is_expected() throws Exception {
        Exchange exchange = probe(server.address(), new DnsOptions("known.test", "AAAA", null, "::"), TIMEOUT)
                .exchange();

        assertThat(exchange.result().outcome()).isEqualTo(Outcome.VALIDATION_FAILED);
        assertThat(exchange.result().statusCode()).isZero();
        assertThat(exchange.answerCount()).isZero();
        assertThat(exchange.result().errorDetail()).startsWith("no answer records for AAAA known.test.");
    }

    @Test
    void noerror_without_answers_is_ok_when_nothing_is_expected() throws Exception {
        Exchange exchange = probe(server.address(), new DnsOptions("known.test", "TXT", null, null), TIMEOUT)
                .exchange();

        assertThat(exchange.result().outcome()).isEqualTo(Outcome.OK);
        assertThat(exchange.answerCount()).isZero();
    }

    @Test
    void a_silent_server_times_out_within_the_timeout_over_udp_and_tcp() throws Exception {
        server.silent();
        Duration timeout = Duration.ofMillis(300);
        for (String transport : new String[] {"udp", "tcp"}) {
            DnsProbe probe = probe(server.address(), new DnsOptions("known.test", null, transport, null), timeout);

            long start = System.nanoTime();
            Exchange exchange = probe.exchange();
            long elapsedNanos = System.nanoTime() - start;

            assertThat(exchange.result().outcome()).as(transport).isEqualTo(Outcome.TIMEOUT);
            assertThat(exchange.result().statusCode()).isNull();
            assertThat(exchange.answerCount()).isNull();
            assertThat(exchange.result().errorDetail()).isEqualTo(
                    "A known.test. to " + server.address() + " over " + transport + " timed out (probe timeout 300ms)");
            assertThat(elapsedNanos).as(transport).isBetween(timeout.toNanos() - Duration.ofMillis(5).toNanos(),
                    timeout.toNanos() + Duration.ofMillis(300).toNanos());
        }
        assertThat(server.queries()).extracting(Query::transport).containsExactly("udp", "tcp");
    }

    @Test
    void an_interrupt_ends_a_waiting_query_with_interrupted_exception() throws Exception {
        server.silent();
        DnsProbe probe = probe(server.address(), new DnsOptions("known.test", null, null, null), Duration.ofSeconds(30));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread prober = Thread.ofVirtual().start(() -> {
            try {
                probe.exchange();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> server.queries().size() == 1);

        prober.interrupt();

        assertThat(prober.join(Duration.ofSeconds(2))).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    @Test
    void every_probe_reaches_the_server_because_nothing_caches_answers() throws Exception {
        DnsProbe probe = probe(server.address(), new DnsOptions("known.test", null, null, null), TIMEOUT);
        DnsProbe another = probe(server.address(), new DnsOptions("known.test", null, null, null), TIMEOUT);

        assertThat(probe.probe().outcome()).isEqualTo(Outcome.OK);
        assertThat(probe.probe().outcome()).isEqualTo(Outcome.OK);
        assertThat(another.probe().outcome()).isEqualTo(Outcome.OK);

        assertThat(server.queries()).hasSize(3).containsOnly(new Query("udp", "A", "known.test."));
    }

    @Test
    void a_closed_tcp_port_is_refused() throws Exception {
        // a port nothing ever accepted on: closing the running server instead races its accept thread, whose
        // listening socket can still take the handshake and then reset it ("Connection reset by peer")
        String address;
        try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            address = "127.0.0.1:" + unused.getLocalPort();
        }

        Exchange exchange = probe(address, new DnsOptions("known.test", null, "tcp", null), TIMEOUT).exchange();

        assertThat(exchange.result().outcome()).as(exchange.result().errorDetail()).isEqualTo(Outcome.REFUSED);
        assertThat(exchange.result().errorDetail()).startsWith("A known.test. to " + address + " over tcp: ");
    }

    @Test
    void the_registry_builds_a_dns_probe() {
        Probe probe = Probes.create(target("10.0.0.2:53", new DnsOptions("db.internal", "SRV", "tcp", null)), TIMEOUT);

        assertThat(probe).isInstanceOf(DnsProbe.class);
        assertThat(probe.type()).isEqualTo("dns");
        assertThat(probe.protocol()).isEqualTo("dns/tcp");
        assertThat(probe.address()).isEqualTo("10.0.0.2:53");
        assertThat(Probes.create(target("[::1]:5353", new DnsOptions("x.test", null, null, null)), TIMEOUT).address())
                .isEqualTo("[0:0:0:0:0:0:0:1]:5353");
    }

    @Test
    void bad_options_are_rejected_with_the_key_first() {
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("10.0.0.2:53", new DnsOptions("x.test", "XYZ", null, null)), TIMEOUT))
                .hasMessage("dns.recordType must be one of [A, AAAA, CAA, CNAME, HTTPS, MX, NS, PTR, SOA, SRV, SVCB, TXT], "
                        + "got \"XYZ\"");
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("10.0.0.2:53", new DnsOptions("x.test", null, "quic", null)), TIMEOUT))
                .hasMessage("dns.transport must be one of [udp, tcp], got \"quic\"");
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("10.0.0.2:53", new DnsOptions("x.test", null, null, "(")), TIMEOUT))
                .hasMessageStartingWith("dns.expect is not a valid regular expression: ");
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("10.0.0.2:53", null), TIMEOUT))
                .hasMessageStartingWith("dns.name is required");
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("10.0.0.2:53", new DnsOptions("a..b", null, null, null)), TIMEOUT))
                .hasMessageStartingWith("dns.name must be a domain name, got \"a..b\"");
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("resolver.internal:53", new DnsOptions("x.test", null, null, null)), TIMEOUT))
                .hasMessageStartingWith("address must be host:port of the resolver with an IP literal host")
                .hasMessageEndingWith("got \"resolver.internal:53\"");
        assertThatThrownBy(() -> DnsProbe.fromConfig(target("10.0.0.2", new DnsOptions("x.test", null, null, null)), TIMEOUT))
                .hasMessageStartingWith("address must be host:port");
        assertThatThrownBy(() -> DnsProbe.fromConfig(
                new AgentConfig.Target("t", "dns", "10.0.0.2:53", null, null, null, "10\\.", Map.of(), null,
                        new DnsOptions("x.test", null, null, null), null), TIMEOUT))
                .hasMessage("expect is not used by dns targets; use dns.expect");
    }

    private static DnsProbe probe(String address, DnsOptions options, Duration timeout) {
        return DnsProbe.fromConfig(target(address, options), timeout);
    }

    private static AgentConfig.Target target(String address, DnsOptions options) {
        return new AgentConfig.Target("resolver", "dns", address, null, null, null, null, Map.of(), null, options, null);
    }
}
