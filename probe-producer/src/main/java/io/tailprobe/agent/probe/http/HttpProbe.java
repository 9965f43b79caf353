package io.tailprobe.agent.probe.http;

import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Proxy;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;

/**
 * Times one HTTP(S) request with OkHttp: name resolution, connect, TLS, request write, first byte
 * and body transfer (see {@link PhaseRecorder}), then checks the status and, optionally, that the
 * body contains {@code http.bodyRegex}. The whole probe fits in the target's timeout (OkHttp's call
 * timeout). The sample's protocol is the one negotiated: an {@code h2} target whose server only
 * speaks HTTP/1.1 reports {@code http/1.1}.
 *
 * <p>Example: {@code address: https://api.internal/health}, {@code http: {version: h2, connection:
 * reuse, expectStatus: [200], bodyRegex: "\"status\":\"UP\""}} pays connect and TLS once and then
 * measures request write to last byte on the kept-alive connection; with {@code connection: new}
 * (the default) every probe opens and closes its own connection.
 *
 * <p>Names are resolved by the JVM ({@code InetAddress.getAllByName}), whose cache
 * ({@code networkaddress.cache.ttl}, 30 s by default) hides most lookups: the dns phase then shows
 * the cache hit, not the resolver. Probes go direct, never through a system proxy, and follow no
 * redirect (a 301 is a status to expect or not).
 */
public final class HttpProbe implements Probe {
    public static final String TYPE = "http";
    /** Only this much of the body is kept for {@code bodyRegex}; the rest is read and discarded. */
    static final long MAX_BODY_BYTES = 1024 * 1024;
    private static final int DETAIL_CHARS = 200;
    private static final String DEFAULT_USER_AGENT = "tailprobe-agent";
    /** OkHttp refuses these without a body; an empty one is sent when {@code http.body} is unset. */
    private static final Set<String> METHODS_REQUIRING_BODY = Set.of("POST", "PUT", "PATCH", "PROPPATCH", "REPORT");
    private static final MediaType DEFAULT_CONTENT_TYPE = MediaType.get("text/plain; charset=utf-8");

    private final String address;
    private final String protocol;
    private final Duration timeout;
    private final OkHttpClient client;
    private final Request request;
    private final List<Integer> expectStatus;
    private final Pattern bodyRegex;
    private final boolean newConnectionPerProbe;

    private HttpProbe(String address, String protocol, Duration timeout, OkHttpClient client, Request request,
                      List<Integer> expectStatus, Pattern bodyRegex, boolean newConnectionPerProbe) {
        this.address = address;
        this.protocol = protocol;
        this.timeout = timeout;
        this.client = client;
        this.request = request;
        this.expectStatus = expectStatus;
        this.bodyRegex = bodyRegex;
        this.newConnectionPerProbe = newConnectionPerProbe;
    }

    /**
     * Builds the probe of a configured target; messages start with the offending key, e.g.
     * {@code http.version h2 needs an https address}.
     */
    public static HttpProbe fromConfig(AgentConfig.Target target, Duration timeout) {
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be > 0, got " + Durations.format(timeout));
        }
        String address = target.address();
        HttpUrl url = address == null ? null : HttpUrl.parse(address.strip());
        if (url == null) {
            throw new IllegalArgumentException("address must be an http or https URL, got "
                    + (address == null ? "nothing" : "\"" + address + "\""));
        }
        if (target.send() != null) {
            throw new IllegalArgumentException("send is not used by http targets; set http.body");
        }
        if (target.expect() != null) {
            throw new IllegalArgumentException("expect is not used by http targets; set http.bodyRegex");
        }
        AgentConfig.HttpOptions options = target.http() != null ? target.http()
                : new AgentConfig.HttpOptions(null, null, null, null, null, null, null, null);

        String version = options.version() == null ? "http/1.1" : options.version().toLowerCase(Locale.ROOT);
        List<Protocol> protocols = switch (version) {
            case "http/1.1" -> List.of(Protocol.HTTP_1_1);
            case "h2" -> {
                if (!url.isHttps()) {
                    throw new IllegalArgumentException("http.version h2 needs an https address (h2c is HTTP/2 "
                            + "over cleartext), got \"" + address + "\"");
                }
                yield List.of(Protocol.HTTP_2, Protocol.HTTP_1_1);
            }
            case "h2c" -> {
                if (url.isHttps()) {
                    throw new IllegalArgumentException("http.version h2c needs an http address (h2 is HTTP/2 "
                            + "over TLS), got \"" + address + "\"");
                }
                yield List.of(Protocol.H2_PRIOR_KNOWLEDGE);
            }
            default -> throw new IllegalArgumentException("http.version must be http/1.1, h2 or h2c, got \""
                    + options.version() + "\"");
        };

        String connection = options.connection() == null ? "new" : options.connection().toLowerCase(Locale.ROOT);
        if (!connection.equals("new") && !connection.equals("reuse")) {
            throw new IllegalArgumentException("http.connection must be new or reuse, got \""
                    + options.connection() + "\"");
        }
        boolean newConnectionPerProbe = connection.equals("new");

        List<Integer> expectStatus = options.expectStatus() == null ? List.of() : List.copyOf(options.expectStatus());
        for (Integer status : expectStatus) {
            if (status < 100 || status > 599) {
                throw new IllegalArgumentException("http.expectStatus entries must be 100..599, got " + status);
            }
        }

        Pattern bodyRegex = null;
        if (options.bodyRegex() != null) {
            try {
                bodyRegex = Pattern.compile(options.bodyRegex());
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("http.bodyRegex is not a valid regular expression: "
                        + e.getDescription() + " in \"" + options.bodyRegex() + "\"");
            }
        }

        Request request = buildRequest(url, options);

        OkHttpClient.Builder client = new OkHttpClient.Builder()
                .callTimeout(timeout)
                .connectTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                .retryOnConnectionFailure(false)
                .followRedirects(false)
                .followSslRedirects(false)
                .cache(null)
                .proxy(Proxy.NO_PROXY)
                .protocols(protocols)
                // connection: new evicts after each probe rather than using maxIdle 0: OkHttp releases an
                // HTTP/2 connection when the body's last byte arrives, and a pool without room would close
                // the socket before the reader thread has seen END_STREAM, failing the read in flight.
                .connectionPool(new ConnectionPool(1, 5, TimeUnit.MINUTES))
                .eventListenerFactory(PhaseRecorder.FACTORY);
        if (Boolean.FALSE.equals(options.tlsVerify())) {
            trustEverything(client);
        }
        String protocol = version;
        return new HttpProbe(url.toString(), protocol, timeout, client.build(), request, expectStatus, bodyRegex,
                newConnectionPerProbe);
    }

    private static Request buildRequest(HttpUrl url, AgentConfig.HttpOptions options) {
        String method = options.method() == null ? "GET" : options.method().strip().toUpperCase(Locale.ROOT);
        if (method.isEmpty() || !method.chars().allMatch(c -> c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
            throw new IllegalArgumentException("http.method must be an HTTP method such as GET or POST, got \""
                    + options.method() + "\"");
        }
        Headers.Builder headers = new Headers.Builder();
        Map<String, String> configured = options.headers() == null ? Map.of() : options.headers();
        for (Map.Entry<String, String> header : configured.entrySet()) {
            try {
                headers.set(header.getKey(), header.getValue() == null ? "" : header.getValue());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("http.headers." + header.getKey() + " is not a valid header: "
                        + e.getMessage());
            }
        }
        if (headers.get("User-Agent") == null) {
            headers.set("User-Agent", DEFAULT_USER_AGENT);
        }
        RequestBody body = null;
        if (options.body() != null || METHODS_REQUIRING_BODY.contains(method)) {
            if (method.equals("GET") || method.equals("HEAD")) {
                throw new IllegalArgumentException("http.body is not allowed with http.method " + method);
            }
            MediaType contentType = DEFAULT_CONTENT_TYPE;
            String configuredType = headers.get("Content-Type");
            if (configuredType != null) {
                contentType = MediaType.parse(configuredType);
                if (contentType == null) {
                    throw new IllegalArgumentException("http.headers.Content-Type must be a media type such as "
                            + "application/json, got \"" + configuredType + "\"");
                }
            }
            body = RequestBody.create(options.body() == null ? "" : options.body(), contentType);
        }
        return new Request.Builder().url(url).headers(headers.build()).method(method, body).build();
    }

    /**
     * tlsVerify: false — INSECURE ON PURPOSE. Accepts any certificate chain and host name, so that
     * self-signed or expired endpoints can still be timed (and their expiry reported). Never used
     * unless the target sets {@code tlsVerify: false}.
     */
    private static void trustEverything(OkHttpClient.Builder client) {
        X509TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustAll}, null);
            client.sslSocketFactory(context.getSocketFactory(), trustAll).hostnameVerifier((host, session) -> true);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JVM offers no TLS context", e);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The configured version ({@code http/1.1}, {@code h2}, {@code h2c}); results carry the negotiated one. */
    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public ProbeResult probe() throws InterruptedException {
        try {
            return exchange();
        } finally {
            if (newConnectionPerProbe) {
                // Closes the probe's idle connection (outside the measured time) so the next probe connects anew.
                client.connectionPool().evictAll();
            }
        }
    }

    private ProbeResult exchange() throws InterruptedException {
        long startNanos = System.nanoTime();
        PhaseRecorder recorder = new PhaseRecorder(startNanos);
        Call call = client.newCall(recorder.attachTo(request));
        Integer statusCode = null;
        String usedProtocol = null;
        Long certNotAfterMillis = null;
        try (Response response = call.execute()) {
            statusCode = response.code();
            usedProtocol = name(response.protocol());
            certNotAfterMillis = earliestNotAfterMillis(recorder.peerCertificates());
            Buffer kept = new Buffer();
            long bodyBytes = readBody(response.body(), kept);
            long endNanos = System.nanoTime();

            PhaseTimings phases = recorder.phases(endNanos, true);
            String probed = probedAddress(recorder);
            Outcome outcome = Outcome.OK;
            String detail = null;
            if (!statusExpected(statusCode)) {
                outcome = Outcome.HTTP_STATUS;
                detail = "status " + statusCode + " is not " + (expectStatus.isEmpty() ? "2xx" : "in " + expectStatus);
            } else if (bodyRegex != null && !bodyRegex.matcher(decode(kept, response.body())).find()) {
                outcome = Outcome.VALIDATION_FAILED;
                detail = "body does not match /" + bodyRegex.pattern() + "/ ("
                        + (bodyBytes > MAX_BODY_BYTES ? "first " + MAX_BODY_BYTES + " of " : "") + bodyBytes + " bytes)";
            }
            return new ProbeResult(outcome, probed, phases, recorder.connectionReused(), statusCode, detail)
                    .withProtocol(usedProtocol)
                    .withLatencyNanos(endNanos - startNanos)
                    .withTlsCertNotAfterMillis(certNotAfterMillis);
        } catch (IOException e) {
            long endNanos = System.nanoTime();
            if (Thread.currentThread().isInterrupted() || isInterruption(e)) {
                throw new InterruptedException("probe of " + address + " interrupted");
            }
            Outcome outcome = classify(e);
            PhaseTimings phases = recorder.phases(endNanos, false);
            if (outcome == Outcome.DNS_ERROR && phases.getDnsNanos() == null) {
                phases.setDnsNanos(endNanos - startNanos);
            }
            // A TLS server that then times out or resets still reports its certificate's expiry.
            certNotAfterMillis = earliestNotAfterMillis(recorder.peerCertificates());
            if (usedProtocol == null && recorder.connectedProtocol() != null) {
                usedProtocol = name(recorder.connectedProtocol());
            }
            String detail = request.method() + " " + address + ": " + (outcome == Outcome.TIMEOUT
                    ? "timed out (probe timeout " + Durations.format(timeout) + ")" : abbreviate(describe(e)));
            // Whether a connection was reused is only known once one was acquired or attempted.
            Boolean reused = recorder.remoteAddress() == null ? null : recorder.connectionReused();
            return new ProbeResult(outcome, probedAddress(recorder), phases, reused, statusCode, detail)
                    .withProtocol(usedProtocol)
                    .withLatencyNanos(endNanos - startNanos)
                    .withTlsCertNotAfterMillis(certNotAfterMillis);
        }
    }

    /** Reads the body to the end, keeping its first {@link #MAX_BODY_BYTES} in {@code kept}; returns its size. */
    private static long readBody(ResponseBody body, Buffer kept) throws IOException {
        BufferedSource source = body.source();
        Buffer chunk = new Buffer();
        long total = 0;
        long n;
        while ((n = source.read(chunk, 64 * 1024)) != -1) {
            total += n;
            long room = MAX_BODY_BYTES - kept.size();
            if (room > 0) {
                kept.write(chunk, Math.min(room, chunk.size()));
            }
            chunk.clear();
        }
        return total;
    }

    private static String decode(Buffer kept, ResponseBody body) {
        MediaType type = body.contentType();
        return kept.readString(type == null ? StandardCharsets.UTF_8 : type.charset(StandardCharsets.UTF_8));
    }

    private boolean statusExpected(int status) {
        return expectStatus.isEmpty() ? status >= 200 && status <= 299 : expectStatus.contains(status);
    }

    /** The earliest notAfter of the peer's chain, epoch millis; null without TLS. */
    static Long earliestNotAfterMillis(List<Certificate> chain) {
        Long earliest = null;
        for (Certificate certificate : chain) {
            if (certificate instanceof X509Certificate x509) {
                long notAfter = x509.getNotAfter().getTime();
                earliest = earliest == null ? notAfter : Math.min(earliest, notAfter);
            }
        }
        return earliest;
    }

    /** The protocol as samples name it: {@code http/1.1}, {@code h2}, {@code h2c}. */
    static String name(Protocol protocol) {
        return switch (protocol) {
            case H2_PRIOR_KNOWLEDGE -> "h2c";
            default -> protocol.toString(); // http/1.0, http/1.1, h2, quic
        };
    }

    /**
     * Maps a failed call to an outcome. OkHttp wraps the socket's exception (a refused connect is a
     * {@code ConnectException("Failed to connect to …")} caused by the JDK's "Connection refused"),
     * so the cause chain is searched from the outside in.
     */
    static Outcome classify(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (t instanceof UnknownHostException) {
                return Outcome.DNS_ERROR;
            }
            if (t instanceof NoRouteToHostException || message.contains("unreachable") || message.contains("no route")
                    || message.contains("host is down")) {
                return Outcome.UNREACHABLE;
            }
            // Covers SocketTimeoutException (connect/read/write) and the call timeout's "timeout".
            if (t instanceof InterruptedIOException) {
                return Outcome.TIMEOUT;
            }
            if (t instanceof SSLException || t instanceof CertificateException) {
                return Outcome.TLS_ERROR;
            }
            if (message.contains("refused")) {
                return Outcome.REFUSED;
            }
            if (t instanceof ConnectException && t.getCause() == null) {
                return Outcome.IO_ERROR;
            }
        }
        return Outcome.IO_ERROR;
    }

    /** Okio reports an interrupted thread as an InterruptedIOException("interrupted"). */
    private static boolean isInterruption(IOException e) {
        return e instanceof InterruptedIOException && "interrupted".equals(e.getMessage());
    }

    private String probedAddress(PhaseRecorder recorder) {
        InetSocketAddress remote = recorder.remoteAddress();
        if (remote != null && remote.getAddress() != null) {
            String ip = remote.getAddress().getHostAddress();
            return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + remote.getPort();
        }
        HttpUrl url = request.url();
        return (url.host().indexOf(':') >= 0 ? "[" + url.host() + "]" : url.host()) + ":" + url.port();
    }

    /** The message with the causes' messages that add something, e.g. "Failed to connect to …: Connection refused". */
    private static String describe(Throwable e) {
        Set<String> seen = new TreeSet<>();
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null && seen.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (seen.add(message) && !text.toString().contains(message)) {
                text.append(text.isEmpty() ? "" : ": ").append(message);
            }
        }
        return text.toString();
    }

    private static String abbreviate(String text) {
        return text.length() <= DETAIL_CHARS ? text : text.substring(0, DETAIL_CHARS) + "…";
    }

    @Override
    public String toString() {
        return "HttpProbe[" + request.method() + " " + address + ", " + protocol + ", "
                + (newConnectionPerProbe ? "new connection" : "reused connection") + ", timeout "
                + Durations.format(timeout) + (bodyRegex != null ? ", bodyRegex /" + bodyRegex.pattern() + "/" : "")
                + "]";
    }
}
