package io.tailprobe.common;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A registry's metrics in the Prometheus text format, as every service's {@code /metrics} serves them. */
public final class PrometheusText {
    private static final PrometheusTextFormatWriter FORMAT = PrometheusTextFormatWriter.create();

    private PrometheusText() {}

    public static String contentType() {
        return FORMAT.getContentType();
    }

    public static byte[] scrape(PrometheusRegistry registry) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            FORMAT.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
