package io.tailprobe.agent.probe.http;

import io.tailprobe.schemas.PhaseTimings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.EventListener;
import okhttp3.Handshake;
import okhttp3.Protocol;
import okhttp3.Request;

/**
 * Records the {@link System#nanoTime()} of OkHttp's events for one call and cuts the call into
 * contiguous phases, so that on success the phases add up exactly to the probe's own total.
 *
 * <p>Each phase runs from the end of the previous one, which puts OkHttp's bookkeeping between
 * events (route selection, pool lookup, the request flush) into the phase that follows it rather
 * than into a gap: {@code dns} is call start → dnsEnd (call start → connectStart for a literal IP,
 * where OkHttp resolves nothing), {@code connect} is the rest up to connectEnd minus the TLS
 * handshake (it includes the HTTP/2 preface), {@code tls} is secureConnectStart → secureConnectEnd,
 * {@code requestWrite} runs to the last request byte, {@code firstByte} to the response headers and
 * {@code transfer} to the last body byte. On a reused connection there is no dns, connect or tls
 * phase and {@code requestWrite} starts at the call start. A 2 ms loopback HTTPS probe shows e.g.
 * dns 40 µs, connect 300 µs, tls 1.2 ms, requestWrite 90 µs, firstByte 300 µs, transfer 70 µs.
 *
 * <p>One recorder per call, attached as the request's tag; events of a synchronous call arrive on
 * the calling thread.
 */
final class PhaseRecorder extends EventListener {
    /** Finds the recorder attached to a call's request; calls without one are not observed. */
    static final EventListener.Factory FACTORY = call -> {
        PhaseRecorder recorder = call.request().tag(PhaseRecorder.class);
        return recorder != null ? recorder : EventListener.NONE;
    };

    private static final long UNSET = -1;

    private final long startNanos;
    private long dnsEndNanos = UNSET;
    private long connectStartNanos = UNSET;
    private long secureConnectStartNanos = UNSET;
    private long secureConnectEndNanos = UNSET;
    private long connectEndNanos = UNSET;
    private long requestEndNanos = UNSET;
    private long responseHeadersStartNanos = UNSET;
    private InetSocketAddress remoteAddress;
    private Protocol connectedProtocol;
    private List<Certificate> peerCertificates = List.of();

    /** @param startNanos the probe's start, taken just before the call executes */
    PhaseRecorder(long startNanos) {
        this.startNanos = startNanos;
    }

    /** Attaches this recorder to a request so that {@link #FACTORY} finds it. */
    Request attachTo(Request request) {
        return request.newBuilder().tag(PhaseRecorder.class, this).build();
    }

    long startNanos() {
        return startNanos;
    }

    /** The certificates the TLS peer presented on the call's connection; empty without TLS. */
    List<Certificate> peerCertificates() {
        return peerCertificates;
    }

    /** True when the call opened no connection of its own. */
    boolean connectionReused() {
        return connectStartNanos == UNSET;
    }

    /** The socket address connected to or reused; null before a connection attempt. */
    InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    /** The protocol of the new connection (after ALPN); null for a reused or failed connection. */
    Protocol connectedProtocol() {
        return connectedProtocol;
    }

    /**
     * The phases completed by {@code endNanos}. When the body was read to the end, the phases are
     * contiguous from the start to {@code endNanos}; after a failure the unfinished phase is left out.
     *
     * @param bodyComplete whether the last body byte arrived at {@code endNanos}
     */
    PhaseTimings phases(long endNanos, boolean bodyComplete) {
        PhaseTimings.Builder phases = PhaseTimings.newBuilder();
        long cursor = startNanos;
        if (connectStartNanos != UNSET) {
            long resolved = dnsEndNanos != UNSET ? dnsEndNanos : connectStartNanos;
            phases.setDnsNanos(resolved - cursor);
            cursor = resolved;
            if (connectEndNanos == UNSET) {
                // The connect or the TLS handshake failed: report the TCP part if it completed.
                if (secureConnectStartNanos != UNSET) {
                    phases.setConnectNanos(secureConnectStartNanos - cursor);
                }
                return phases.build();
            }
            long tlsNanos = 0;
            if (secureConnectEndNanos != UNSET) {
                tlsNanos = secureConnectEndNanos - secureConnectStartNanos;
                phases.setTlsNanos(tlsNanos);
            }
            phases.setConnectNanos(connectEndNanos - cursor - tlsNanos);
            cursor = connectEndNanos;
        } else if (dnsEndNanos != UNSET && remoteAddress == null) {
            phases.setDnsNanos(dnsEndNanos - cursor);
            return phases.build();
        }
        if (requestEndNanos == UNSET) {
            return phases.build();
        }
        phases.setRequestWriteNanos(requestEndNanos - cursor);
        cursor = requestEndNanos;
        if (responseHeadersStartNanos == UNSET) {
            return phases.build();
        }
        phases.setFirstByteNanos(responseHeadersStartNanos - cursor);
        cursor = responseHeadersStartNanos;
        if (bodyComplete) {
            phases.setTransferNanos(endNanos - cursor);
        }
        return phases.build();
    }

    @Override
    public void dnsEnd(Call call, String domainName, List<InetAddress> addresses) {
        dnsEndNanos = System.nanoTime();
    }

    @Override
    public void connectStart(Call call, InetSocketAddress inetSocketAddress, Proxy proxy) {
        connectStartNanos = System.nanoTime();
        remoteAddress = inetSocketAddress;
    }

    @Override
    public void secureConnectStart(Call call) {
        secureConnectStartNanos = System.nanoTime();
    }

    @Override
    public void secureConnectEnd(Call call, Handshake handshake) {
        secureConnectEndNanos = System.nanoTime();
    }

    @Override
    public void connectEnd(Call call, InetSocketAddress inetSocketAddress, Proxy proxy, Protocol protocol) {
        connectEndNanos = System.nanoTime();
        connectedProtocol = protocol;
    }

    @Override
    public void connectionAcquired(Call call, Connection connection) {
        if (remoteAddress == null) {
            remoteAddress = connection.route().socketAddress();
        }
        // The chain as the server sent it, from the JDK's session: OkHttp's Handshake holds the chain
        // cleaned against the trust roots, which is empty when verification is off (tlsVerify: false).
        if (connection.socket() instanceof SSLSocket tls) {
            try {
                peerCertificates = List.of(tls.getSession().getPeerCertificates());
            } catch (SSLPeerUnverifiedException e) {
                peerCertificates = List.of();
            }
        }
    }

    @Override
    public void requestHeadersEnd(Call call, Request request) {
        requestEndNanos = System.nanoTime();
    }

    @Override
    public void requestBodyEnd(Call call, long byteCount) {
        requestEndNanos = System.nanoTime();
    }

    @Override
    public void requestFailed(Call call, IOException ioe) {
        // the request write did not finish; leave requestWrite unset
        requestEndNanos = UNSET;
    }

    @Override
    public void responseHeadersStart(Call call) {
        // Only the first: a 1xx interim response must not move the end of firstByte.
        if (responseHeadersStartNanos == UNSET) {
            responseHeadersStartNanos = System.nanoTime();
        }
    }
}
