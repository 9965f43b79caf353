package io.tailprobe.agent.probe.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.withinPercentage;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.agent.probe.Probes;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import okhttp3.Protocol;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HttpProbeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /** Self-signed, valid for a day: no JVM trust store knows it. */
    private static final HeldCertificate SELF_SIGNED = new HeldCertificate.Builder()
            .commonName("tailprobe-test")
            .addSubjectAlternativeName("localhost")
            .duration(1, TimeUnit.DAYS)
            .build();
    private static final HandshakeCertificates SERVER_CERTIFICATES = new HandshakeCertificates.Builder()
            .heldCertificate(SELF_SIGNED)
            .build();

    private MockWebServer server;

    @BeforeEach
    void startServer() {
        server = new MockWebServer();
    }

    @AfterEach
    void stopServer() throws IOException {
        server.shutdown();
    }

    // ---- contract: phases, protocols, connections ----

    @Test
    void phases_of_a_successful_probe_add_up_to_its_own_total_within_1_percent() throws Exception {
        serveHttps(List.of(Protocol.HTTP_1_1));
        server.enqueue(new MockResponse().setBody("x".repeat(100_000)));
        HttpProbe probe = probe(httpsUrl(), options("http/1.1", "new", null, null, false));

        long start = System.nanoTime();
        ProbeResult result = probe.probe();
        long elapsed = System.nanoTime() - start;

        assertOk(result);
        PhaseTimings phases = result.phases();
        assertThat(phases.getDnsNanos()).isNotNull();
        assertThat(phases.getConnectNanos()).isPositive();
        assertThat(phases.getTlsNanos()).isPositive();
        assertThat(phases.getRequestWriteNanos()).isNotNegative();
        assertThat(phases.getFirstByteNanos()).isPositive();
        assertThat(phases.getTransferNanos()).isNotNegative();
        assertThat(result.latencyNanos()).isPositive().isLessThanOrEqualTo(elapsed);
        assertThat(sum(phases)).isCloseTo(result.latencyNanos(), withinPercentage(1));
    }

    @Test
    void a_response_delayed_by_200_ms_is_timed_as_first_byte() throws Exception {
        server.enqueue(new MockResponse().setHeadersDelay(200, TimeUnit.MILLISECONDS).setBody("late"));
        server.start(InetAddress.getLoopbackAddress(), 0);

        ProbeResult result = probe(httpUrl(), null).probe();

        assertOk(result);
        assertThat(result.phases().getFirstByteNanos()).isBetween(
                Duration.ofMillis(195).toNanos(), Duration.ofMillis(195).toNanos() + TIMEOUT.toNanos());
        assertThat(result.phases().getTransferNanos()).isLessThan(Duration.ofMillis(100).toNanos());
        assertThat(sum(result.phases())).isCloseTo(result.latencyNanos(), withinPercentage(1));
    }

    @Test
    void plain_http_1_1_is_recorded_as_http_1_1_with_the_status_and_the_resolved_address() throws Exception {
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.enqueue(new MockResponse().setBody("hello"));
        HttpProbe probe = probe(httpUrl(), null);

        ProbeResult result = probe.probe();

        assertOk(result);
        assertThat(result.protocol()).isEqualTo("http/1.1");
        assertThat(result.statusCode()).isEqualTo(200);
        assertThat(result.address()).isEqualTo("127.0.0.1:" + server.getPort());
        assertThat(result.connectionReused()).isFalse();
        assertThat(result.tlsCertNotAfterMillis()).isNull();
        assertThat(result.phases().getTlsNanos()).isNull();
        assertThat(result.errorDetail()).isNull();
        assertThat(probe.type()).isEqualTo("http");
        assertThat(probe.protocol()).isEqualTo("http/1.1");
        assertThat(probe.address()).isEqualTo(httpUrl());
    }

    @Test
    void h2_over_tls_negotiates_h2_with_alpn() throws Exception {
        serveHttps(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        server.enqueue(new MockResponse().setBody("hello"));
        HttpProbe probe = probe(httpsUrl(), options("h2", "new", null, null, false));

        ProbeResult result = probe.probe();

        assertOk(result);
        assertThat(result.protocol()).isEqualTo("h2");
        assertThat(result.phases().getTlsNanos()).isPositive();
        assertThat(sum(result.phases())).isCloseTo(result.latencyNanos(), withinPercentage(1));
    }

    @Test
    void h2_against_a_server_without_h2_records_the_http_1_1_it_fell_back_to() throws Exception {
        serveHttps(List.of(Protocol.HTTP_1_1));
        server.enqueue(new MockResponse().setBody("hello"));
        HttpProbe probe = probe(httpsUrl(), options("h2", "new", null, null, false));

        ProbeResult result = probe.probe();

        assertOk(result);
        assertThat(result.protocol()).isEqualTo("http/1.1");
        assertThat(probe.protocol()).isEqualTo("h2");
    }

    @Test
    void h2c_speaks_http_2_with_prior_knowledge_and_is_recorded_as_h2c() throws Exception {
        server.setProtocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE));
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.enqueue(new MockResponse().setBody("hello"));

        ProbeResult result = probe(httpUrl(), options("h2c", "new", null, null, null)).probe();

        assertOk(result);
        assertThat(result.protocol()).isEqualTo("h2c");
        assertThat(result.phases().getTlsNanos()).isNull();
        assertThat(sum(result.phases())).isCloseTo(result.latencyNanos(), withinPercentage(1));
    }

    @Test
    void with_connection_reuse_the_second_probe_reuses_the_connection_and_has_no_connect_or_tls_phase()
            throws Exception {
        serveHttps(List.of(Protocol.HTTP_1_1));
        server.enqueue(new MockResponse().setBody("one"));
        server.enqueue(new MockResponse().setBody("two"));
        HttpProbe probe = probe(httpsUrl(), options("http/1.1", "reuse", null, null, false));

        ProbeResult first = probe.probe();
        ProbeResult second = probe.probe();

        assertThat(first.connectionReused()).isFalse();
        assertThat(first.phases().getConnectNanos()).isPositive();
        assertThat(first.phases().getTlsNanos()).isPositive();
        assertOk(second);
        assertThat(second.connectionReused()).isTrue();
        assertThat(second.phases().getDnsNanos()).isNull();
        assertThat(second.phases().getConnectNanos()).isNull();
        assertThat(second.phases().getTlsNanos()).isNull();
        assertThat(second.phases().getRequestWriteNanos()).isNotNull();
        assertThat(second.tlsCertNotAfterMillis()).isEqualTo(first.tlsCertNotAfterMillis()).isNotNull();
        assertThat(sum(second.phases())).isCloseTo(second.latencyNanos(), withinPercentage(1));
        assertThat(server.takeRequest().getSequenceNumber()).isZero();
        assertThat(server.takeRequest().getSequenceNumber()).as("second request on the same connection").isOne();
    }

    @Test
    void with_connection_new_every_probe_connects_and_handshakes() throws Exception {
        serveHttps(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        HttpProbe probe = probe(httpsUrl(), options("h2", "new", null, null, false));

        for (int i = 0; i < 3; i++) {
            server.enqueue(new MockResponse().setBody("hello"));
            ProbeResult result = probe.probe();

            assertOk(result);
            assertThat(result.connectionReused()).isFalse();
            assertThat(result.phases().getConnectNanos()).isPositive();
            assertThat(result.phases().getTlsNanos()).isPositive();
            assertThat(server.takeRequest().getSequenceNumber()).as("first request on its connection").isZero();
        }
    }

    // ---- outcomes ----

    @Test
    void a_status_that_is_not_expected_is_an_http_status_outcome_with_the_status() throws Exception {
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.enqueue(new MockResponse().setResponseCode(503).setBody("down"));

        ProbeResult result = probe(httpUrl(), null).probe();

        assertThat(result.outcome()).isEqualTo(Outcome.HTTP_STATUS);
        assertThat(result.statusCode()).isEqualTo(503);
        assertThat(result.errorDetail()).isEqualTo("status 503 is not 2xx");
        assertThat(result.phases().getTransferNanos()).isNotNull();
    }

    @Test
    void an_expected_non_2xx_status_is_ok_and_an_unlisted_2xx_is_not() throws Exception {
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.enqueue(new MockResponse().setResponseCode(404));
        server.enqueue(new MockResponse().setResponseCode(200));
        HttpProbe probe = probe(httpUrl(), options(null, null, List.of(404, 410), null, null));

        ProbeResult notFound = probe.probe();
        ProbeResult found = probe.probe();

        assertOk(notFound);
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(found.outcome()).isEqualTo(Outcome.HTTP_STATUS);
        assertThat(found.errorDetail()).isEqualTo("status 200 is not in [404, 410]");
    }

    @Test
    void a_body_that_does_not_match_the_regex_fails_validation_and_one_that_does_is_ok() throws Exception {
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.enqueue(new MockResponse().setBody("{\"status\":\"DOWN\"}"));
        server.enqueue(new MockResponse().setBody("{\"status\":\"UP\"}"));
        HttpProbe probe = probe(httpUrl(), options(null, null, null, "\"status\":\"UP\"", null));

        ProbeResult down = probe.probe();
        ProbeResult up = probe.probe();

        assertThat(down.outcome()).isEqualTo(Outcome.VALIDATION_FAILED);
        assertThat(down.statusCode()).isEqualTo(200);
        assertThat(down.errorDetail()).isEqualTo("body does not match /\"status\":\"UP\"/ (17 bytes)");
        assertOk(up);
    }

    @Test
    void method_headers_and_body_are_sent_as_configured() throws Exception {
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.enqueue(new MockResponse().setResponseCode(201));
        AgentConfig.HttpOptions options = new AgentConfig.HttpOptions("post",
                Map.of("Content-Type", "application/json", "X-Probe", "tailprobe"), "{\"ping\":1}",
                null, null, List.of(201), null, null);

        ProbeResult result = probe(httpUrl(), options).probe();
        RecordedRequest recorded = server.takeRequest();

        assertOk(result);
        assertThat(recorded.getMethod()).isEqualTo("POST");
        assertThat(recorded.getHeader("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(recorded.getHeader("X-Probe")).isEqualTo("tailprobe");
        assertThat(recorded.getHeader("User-Agent")).isEqualTo("tailprobe-agent");
        assertThat(recorded.getBody().readUtf8()).isEqualTo("{\"ping\":1}");
    }

    @Test
    void a_closed_port_is_refused() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }

        ProbeResult result = probe("http://127.0.0.1:" + port + "/", null).probe();

        assertThat(result.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(result.address()).isEqualTo("127.0.0.1:" + port);
        assertThat(result.errorDetail()).startsWith("GET http://127.0.0.1:" + port + "/: ")
                .containsIgnoringCase("refused");
        assertThat(result.statusCode()).isNull();
        assertThat(result.phases().getDnsNanos()).isNotNull();
        assertThat(result.phases().getConnectNanos()).isNull();
    }

    @Test
    void a_server_that_delays_its_response_beyond_the_timeout_times_out_within_the_timeout() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        server.start(InetAddress.getLoopbackAddress(), 0);
        // The server would answer after 1.5 s; the upper bound below stays under that, so passing proves
        // the probe gave up at its own timeout. The margin absorbs a loaded 2-core build machine.
        server.enqueue(new MockResponse().setHeadersDelay(1_500, TimeUnit.MILLISECONDS).setBody("too late"));
        HttpProbe probe = HttpProbe.fromConfig(target(httpUrl(), null), timeout);

        long start = System.nanoTime();
        ProbeResult result = probe.probe();
        long elapsed = System.nanoTime() - start;

        assertThat(result.outcome()).isEqualTo(Outcome.TIMEOUT);
        assertThat(result.errorDetail()).isEqualTo("GET " + httpUrl() + ": timed out (probe timeout 300ms)");
        assertThat(elapsed).isBetween(timeout.toNanos() - Duration.ofMillis(5).toNanos(),
                timeout.toNanos() + Duration.ofMillis(900).toNanos());
        assertThat(result.phases().getConnectNanos()).isNotNull();
        assertThat(result.phases().getFirstByteNanos()).isNull();
        assertThat(sum(result.phases())).isLessThanOrEqualTo(result.latencyNanos());
    }

    @Test
    void a_self_signed_certificate_is_a_tls_error_when_verified() throws Exception {
        serveHttps(List.of(Protocol.HTTP_1_1));
        server.enqueue(new MockResponse().setBody("hello"));

        ProbeResult result = probe(httpsUrl(), options(null, null, null, null, true)).probe();

        assertThat(result.outcome()).isEqualTo(Outcome.TLS_ERROR);
        assertThat(result.errorDetail()).startsWith("GET " + httpsUrl() + ": ");
        assertThat(result.statusCode()).isNull();
        assertThat(result.phases().getConnectNanos()).isPositive();
        assertThat(result.phases().getTlsNanos()).isNull();
    }

    @Test
    void a_self_signed_certificate_is_ok_without_verification_and_reports_its_expiry() throws Exception {
        serveHttps(List.of(Protocol.HTTP_1_1));
        server.enqueue(new MockResponse().setBody("hello"));

        ProbeResult result = probe(httpsUrl(), options(null, null, null, null, false)).probe();

        assertOk(result);
        assertThat(result.tlsCertNotAfterMillis()).isEqualTo(SELF_SIGNED.certificate().getNotAfter().getTime());
    }

    @Test
    void an_unresolvable_host_is_a_dns_error() throws Exception {
        ProbeResult result = probe("http://no-such-host.invalid/", null).probe();

        assertThat(result.outcome()).isEqualTo(Outcome.DNS_ERROR);
        assertThat(result.address()).isEqualTo("no-such-host.invalid:80");
        assertThat(result.phases().getDnsNanos()).isNotNull();
        assertThat(result.phases().getConnectNanos()).isNull();
    }

    @Test
    void wrapped_socket_errors_map_to_outcomes() {
        IOException refused = new java.net.ConnectException("Failed to connect to /10.0.0.7:80");
        refused.initCause(new java.net.ConnectException("Connection refused"));
        IOException callTimeout = new java.io.InterruptedIOException("timeout");
        callTimeout.initCause(new javax.net.ssl.SSLException("Socket closed"));

        assertThat(HttpProbe.classify(refused)).isEqualTo(Outcome.REFUSED);
        assertThat(HttpProbe.classify(callTimeout)).isEqualTo(Outcome.TIMEOUT);
        assertThat(HttpProbe.classify(new java.net.SocketTimeoutException("Read timed out"))).isEqualTo(Outcome.TIMEOUT);
        assertThat(HttpProbe.classify(new java.net.NoRouteToHostException("No route to host")))
                .isEqualTo(Outcome.UNREACHABLE);
        assertThat(HttpProbe.classify(new javax.net.ssl.SSLPeerUnverifiedException("Hostname x not verified")))
                .isEqualTo(Outcome.TLS_ERROR);
        assertThat(HttpProbe.classify(new java.net.UnknownHostException("x.invalid"))).isEqualTo(Outcome.DNS_ERROR);
        assertThat(HttpProbe.classify(new IOException("unexpected end of stream"))).isEqualTo(Outcome.IO_ERROR);
    }

    // ---- configuration ----

    @Test
    void http_is_registered_by_name() {
        assertThat(Probes.types()).contains("http");
        assertThat(Probes.create(target("http://127.0.0.1:1/", null), TIMEOUT)).isInstanceOf(HttpProbe.class);
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of("db.internal:5432", null, "address must be an http or https URL, got \"db.internal:5432\""),
                Arguments.of("ftp://x/", null, "address must be an http or https URL, got \"ftp://x/\""),
                Arguments.of("http://x/", options("http/2", null, null, null, null),
                        "http.version must be http/1.1, h2 or h2c, got \"http/2\""),
                Arguments.of("http://x/", options("h2", null, null, null, null), "http.version h2 needs an https address"),
                Arguments.of("https://x/", options("h2c", null, null, null, null), "http.version h2c needs an http address"),
                Arguments.of("http://x/", options(null, "pooled", null, null, null),
                        "http.connection must be new or reuse, got \"pooled\""),
                Arguments.of("http://x/", options(null, null, null, "(unclosed", null),
                        "http.bodyRegex is not a valid regular expression: "),
                Arguments.of("http://x/", options(null, null, List.of(200, 99), null, null),
                        "http.expectStatus entries must be 100..599, got 99"),
                Arguments.of("http://x/", options(null, null, List.of(600), null, null),
                        "http.expectStatus entries must be 100..599, got 600"),
                Arguments.of("http://x/", new AgentConfig.HttpOptions("GET", null, "payload", null, null, null, null, null),
                        "http.body is not allowed with http.method GET"),
                Arguments.of("http://x/", new AgentConfig.HttpOptions(null, Map.of("Bad Name", "v"), null, null, null,
                        null, null, null), "http.headers.Bad Name is not a valid header: "));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("badConfigs")
    void bad_config_is_rejected_with_a_message_that_starts_with_the_key(String address,
            AgentConfig.HttpOptions options, String message) {
        assertThatThrownBy(() -> HttpProbe.fromConfig(target(address, options), TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void tcp_keys_on_an_http_target_are_rejected() {
        AgentConfig.Target withSend = new AgentConfig.Target("web", "http", "http://x/", null, null, "ping", null, null,
                null, null, null);

        assertThatThrownBy(() -> HttpProbe.fromConfig(withSend, TIMEOUT))
                .hasMessage("send is not used by http targets; set http.body");
    }

    // ---- helpers ----

    private void serveHttps(List<Protocol> protocols) throws IOException {
        server.useHttps(SERVER_CERTIFICATES.sslSocketFactory(), false);
        server.setProtocols(protocols);
        server.start(InetAddress.getLoopbackAddress(), 0);
    }

    private String httpUrl() {
        return "http://127.0.0.1:" + server.getPort() + "/health";
    }

    private String httpsUrl() {
        return "https://127.0.0.1:" + server.getPort() + "/health";
    }

    private static HttpProbe probe(String url, AgentConfig.HttpOptions options) {
        return HttpProbe.fromConfig(target(url, options), TIMEOUT);
    }

    private static AgentConfig.Target target(String address, AgentConfig.HttpOptions options) {
        return new AgentConfig.Target("web", "http", address, null, null, null, null, null, options, null, null);
    }

    private static AgentConfig.HttpOptions options(String version, String connection, List<Integer> expectStatus,
                                                   String bodyRegex, Boolean tlsVerify) {
        return new AgentConfig.HttpOptions(null, null, null, version, connection, expectStatus, bodyRegex, tlsVerify);
    }

    private static void assertOk(ProbeResult result) {
        assertThat(result.outcome()).as("outcome of %s", result).isEqualTo(Outcome.OK);
    }

    private static long sum(PhaseTimings phases) {
        return Stream.of(phases.getDnsNanos(), phases.getConnectNanos(), phases.getTlsNanos(),
                        phases.getRequestWriteNanos(), phases.getFirstByteNanos(), phases.getTransferNanos())
                .filter(v -> v != null)
                .mapToLong(Long::longValue)
                .sum();
    }
}
