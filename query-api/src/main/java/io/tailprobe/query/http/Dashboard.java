package io.tailprobe.query.http;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.http.NotFoundResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The built-in dashboard: {@code GET /} is the page, {@code GET /dashboard/{file}} its scripts and
 * styles, all read once from the classpath at start (the page's own from
 * {@code io/tailprobe/query/dashboard/}, uPlot's from its WebJar), so the dashboard works with no
 * internet and nothing on disk is ever read by a request. The page is plain JavaScript that calls the
 * JSON API ({@code /api/v1/…}) from the browser; with {@code http.bearerToken} set, the page and its
 * assets stay open ({@link QueryApi#OPEN_PATHS}, {@link QueryApi#OPEN_PREFIXES}) and the page asks for
 * the token the API needs.
 *
 * <p>Caching: the page names each asset with a hash of its bytes, e.g.
 * {@code dashboard/dashboard.js?v=3fa1c2d09e4b}; an asset asked for with its current hash is
 * {@code immutable} for a year, anything else (the page itself, an asset without or with an old hash)
 * is {@code no-cache} and revalidated by its {@code ETag} (a 304 when unchanged). So a new release is
 * picked up on the next page load, and a reload of an unchanged dashboard costs one 304.
 */
final class Dashboard {
    /** The page. */
    static final String PAGE_PATH = "/";
    /** Every asset the page loads, by file name. */
    static final String ASSET_PREFIX = "/dashboard/";
    static final String ASSET_PATH = ASSET_PREFIX + "{file}";
    private static final String OWN_RESOURCES = "io/tailprobe/query/dashboard/";
    private static final String UPLOT_POM = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
    private static final String IMMUTABLE = "public, max-age=31536000, immutable";
    private static final String REVALIDATE = "no-cache";
    /**
     * No script, style, image or connection to another origin: the page works offline, and anything
     * that tries to reach out is blocked and reported as a console error (which the browser test fails on).
     */
    private static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; "
            + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
            + "base-uri 'none'; frame-ancestors 'none'";

    /** One file served from memory. */
    record Asset(String contentType, byte[] bytes, String hash) {
        String etag() {
            return "\"" + hash + "\"";
        }
    }

    private final Asset page;
    private final Map<String, Asset> assets;

    Dashboard() {
        String uplotDist = "META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
        Map<String, Asset> byName = new LinkedHashMap<>();
        byName.put("dashboard.css", asset(OWN_RESOURCES + "dashboard.css", "text/css; charset=utf-8"));
        byName.put("dashboard.js", asset(OWN_RESOURCES + "dashboard.js", "text/javascript; charset=utf-8"));
        byName.put("uPlot.min.css", asset(uplotDist + "uPlot.min.css", "text/css; charset=utf-8"));
        byName.put("uPlot.iife.min.js", asset(uplotDist + "uPlot.iife.min.js", "text/javascript; charset=utf-8"));
        this.assets = Collections.unmodifiableMap(byName);
        String html = new String(read(OWN_RESOURCES + "index.html"), StandardCharsets.UTF_8);
        for (Map.Entry<String, Asset> asset : byName.entrySet()) {
            String reference = "\"dashboard/" + asset.getKey() + "\"";
            if (!html.contains(reference)) {
                throw new IllegalStateException("index.html does not load dashboard/" + asset.getKey());
            }
            html = html.replace(reference, "\"dashboard/" + asset.getKey() + "?v=" + asset.getValue().hash() + "\"");
        }
        byte[] pageBytes = html.getBytes(StandardCharsets.UTF_8);
        this.page = new Asset("text/html; charset=utf-8", pageBytes, hash(pageBytes));
    }

    /** The asset file names. */
    List<String> assetNames() {
        return List.copyOf(assets.keySet());
    }

    void page(Context ctx) {
        ctx.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        ctx.header("X-Frame-Options", "DENY");
        send(ctx, page, REVALIDATE);
    }

    void asset(Context ctx) {
        String name = ctx.pathParam("file");
        Asset asset = assets.get(name);
        if (asset == null) {
            throw new NotFoundResponse("no dashboard file " + name, Map.of("parameter", "file",
                    "rule", "must be one of " + String.join(", ", assetNames()), "value", name));
        }
        send(ctx, asset, asset.hash().equals(ctx.queryParam("v")) ? IMMUTABLE : REVALIDATE);
    }

    private static void send(Context ctx, Asset asset, String cacheControl) {
        ctx.header("Cache-Control", cacheControl);
        ctx.header("ETag", asset.etag());
        ctx.header("X-Content-Type-Options", "nosniff");
        String ifNoneMatch = ctx.header("If-None-Match");
        if (ifNoneMatch != null && List.of(ifNoneMatch.split("\\s*,\\s*")).contains(asset.etag())) {
            ctx.status(HttpStatus.NOT_MODIFIED);
            return;
        }
        ctx.contentType(asset.contentType()).result(asset.bytes());
    }

    private static String uplotVersion() {
        Properties pom = new Properties();
        try (InputStream in = resource(UPLOT_POM)) {
            pom.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + UPLOT_POM, e);
        }
        return pom.getProperty("version");
    }

    private static Asset asset(String resource, String contentType) {
        byte[] bytes = read(resource);
        return new Asset(contentType, bytes, hash(bytes));
    }

    private static byte[] read(String resource) {
        try (InputStream in = resource(resource)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the dashboard's " + resource, e);
        }
    }

    private static InputStream resource(String resource) {
        InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("the dashboard's " + resource + " is not on the classpath");
        }
        return in;
    }

    /** The first 12 hex digits of the SHA-256: enough to tell two releases of a file apart. */
    private static String hash(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always there", e);
        }
    }
}
