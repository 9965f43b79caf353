package io.tailprobe.query.http;

import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.UnauthorizedResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Set;

/**
 * Optional bearer-token auth: every matched request outside {@code openPaths} (exact paths, e.g.
 * {@code /health}) and {@code openPrefixes} (e.g. {@code /dashboard/}, which opens
 * {@code /dashboard/dashboard.js}) must carry
 * {@code Authorization: Bearer <token>} (the scheme in any case), compared in constant time; else 401
 * with {@code WWW-Authenticate: Bearer realm="tailprobe"} (plus {@code error="invalid_token"} when a
 * wrong one was sent). CORS preflights ({@code OPTIONS}) pass, since browsers send no credentials on them.
 */
final class BearerAuth {
    private static final String SCHEME = "bearer ";

    private final byte[] token;
    private final Set<String> openPaths;
    private final Set<String> openPrefixes;

    BearerAuth(String token, Set<String> openPaths, Set<String> openPrefixes) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.openPaths = openPaths;
        this.openPrefixes = openPrefixes;
    }

    /** Whether {@code path} is answered without a token. */
    static boolean isOpen(String path, Set<String> openPaths, Set<String> openPrefixes) {
        return openPaths.contains(path) || openPrefixes.stream().anyMatch(path::startsWith);
    }

    void check(Context ctx) {
        if (ctx.method() == HandlerType.OPTIONS || isOpen(ctx.path(), openPaths, openPrefixes)) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header != null && header.length() > SCHEME.length()
                && header.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)
                && MessageDigest.isEqual(header.substring(SCHEME.length()).strip().getBytes(StandardCharsets.UTF_8),
                        token)) {
            return;
        }
        ctx.header("WWW-Authenticate", "Bearer realm=\"tailprobe\"" + (header == null ? "" : ", error=\"invalid_token\""));
        throw new UnauthorizedResponse(header == null ? "this API needs Authorization: Bearer <token>"
                : "the bearer token is not valid");
    }
}
