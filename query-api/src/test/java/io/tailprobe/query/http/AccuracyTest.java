package io.tailprobe.query.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.SampleTopic;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.percentile.PercentileService;
import io.tailprobe.query.samples.KafkaSampleSource;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The accuracy claim, end to end over HTTP: quantiles from the API equal the exact quantiles of the raw
 * values within 0.1%, while the same values in Prometheus' default buckets (from this API's own
 * {@code /metrics}), read back with {@code histogram_quantile}'s linear interpolation, are measurably
 * off. Both are printed side by side.
 */
class AccuracyTest {
    static final SeriesKey SERIES = new SeriesKey("api", "http", "h2");
    static final long T0_MILLIS = 1_795_442_400_000L; // 2026-11-23T14:00:00Z
    static final int WINDOWS = 60;
    static final int HOSTS = 3;
    static final int SAMPLES_PER_HOST_WINDOW = 300;
    static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999};
    /** Prometheus' default buckets (client libraries' DEFAULT_BUCKETS), in seconds. */
    static final double[] PROMETHEUS_DEFAULT_BUCKETS_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /**
     * A network path as it often looks: mostly 18-30 ms (lognormal around 22 ms), and 1.5% of requests
     * paying a retransmission timeout of 200-400 ms on top.
     */
    static long latencyNanos(Random random) {
        double millis = 22.0 * Math.exp(random.nextGaussian() * 0.15);
        if (random.nextDouble() < 0.015) {
            millis += 200.0 + random.nextDouble() * 200.0;
        }
        return (long) (millis * 1_000_000.0);
    }

    /**
     * PromQL's {@code histogram_quantile} (promql/quantile.go, bucketQuantile) over cumulative bucket
     * counts: find the first bucket whose count reaches rank = q × total, and interpolate linearly between
     * its lower and upper bound; in the +Inf bucket, answer the highest finite bound.
     */
    static double histogramQuantile(double quantile, double[] upperBounds, long[] cumulativeCounts, long total) {
        double rank = quantile * total;
        int b = 0;
        while (b < upperBounds.length && cumulativeCounts[b] < rank) {
            b++;
        }
        if (b == upperBounds.length) {
            return upperBounds[upperBounds.length - 1];
        }
        double bucketStart = b == 0 ? 0.0 : upperBounds[b - 1];
        double count = cumulativeCounts[b] - (b == 0 ? 0 : cumulativeCounts[b - 1]);
        double rankInBucket = rank - (b == 0 ? 0 : cumulativeCounts[b - 1]);
        return bucketStart + (upperBounds[b] - bucketStart) * (rankInBucket / count);
    }

    @Test
    void api_quantiles_are_within_a_tenth_of_a_percent_of_the_raw_values_and_prometheus_buckets_are_not() throws Exception {
        InMemoryHistogramStore store = new InMemoryHistogramStore();
        Random random = new Random(2026);
        List<Long> raw = new ArrayList<>();
        for (int w = 0; w < WINDOWS; w++) {
            long[] fleet = new long[HOSTS * SAMPLES_PER_HOST_WINDOW];
            for (int h = 0; h < HOSTS; h++) {
                long[] values = new long[SAMPLES_PER_HOST_WINDOW];
                for (int i = 0; i < values.length; i++) {
                    values[i] = latencyNanos(random);
                    fleet[h * SAMPLES_PER_HOST_WINDOW + i] = values[i];
                    raw.add(values[i]);
                }
                store.put(TestWindows.window(SERIES, "host-" + h, T0_MILLIS + w * 10_000L, values, 0));
            }
            store.put(TestWindows.window(SERIES, HistogramKey.FLEET, T0_MILLIS + w * 10_000L, fleet, 0));
        }
        JsonNode answer;
        String metrics;
        try (QueryApi api = new QueryApi(store, new KafkaSampleSource(new SampleTopic()::consumer, Duration.ofMinutes(1),
                Duration.ofSeconds(5)), Clock.systemUTC(), QueryApiConfig.defaultConfig()).start(0)) {
            answer = new ObjectMapper().readTree(get(api, "/api/v1/percentiles?target=api&probe=http&from=" + T0_MILLIS
                    + "&to=" + (T0_MILLIS + WINDOWS * 10_000L) + "&quantiles=0.5,0.9,0.99,0.999")).get("responseTime");
            metrics = get(api, "/metrics");
        }
        assertThat(answer.get("count").asLong()).isEqualTo(raw.size());

        // The same values in Prometheus' default buckets, as this API's /metrics exposes them (the buckets a
        // Prometheus client would count, but for samples within 0.1% of a bound).
        long[] cumulative = new long[PROMETHEUS_DEFAULT_BUCKETS_SECONDS.length];
        for (int b = 0; b < cumulative.length; b++) {
            double le = PROMETHEUS_DEFAULT_BUCKETS_SECONDS[b];
            String line = "tailprobe_response_time_seconds_bucket{host=\"*\",probe=\"http\",protocol=\"h2\",target=\"api\","
                    + "le=\"" + le + "\"} ";
            cumulative[b] = metrics.lines().filter(l -> l.startsWith(line)).map(l -> Long.parseLong(l.substring(line.length())))
                    .findFirst().orElseThrow(() -> new AssertionError("no " + line + " in /metrics"));
            long clientCount = raw.stream().filter(nanos -> nanos / 1e9 <= le).count();
            long nearBound = raw.stream().filter(nanos -> nanos / 1e9 <= le && nanos / 1e9 > le * 0.999).count();
            assertThat(cumulative[b]).as("le=%s", le).isBetween(clientCount - nearBound, clientCount);
        }
        System.out.printf(Locale.ROOT, "%d samples (%d hosts x %d windows of 10 s), response time in ms:%n", raw.size(),
                HOSTS, WINDOWS);
        System.out.printf(Locale.ROOT, "%-8s %10s %12s %9s %20s %9s%n", "quantile", "exact", "tailprobe", "error",
                "histogram_quantile", "error");
        double worstBucketError = 0;
        for (double q : QUANTILES) {
            double exactMillis = TestWindows.millis(TestWindows.exactQuantile(raw, q));
            double oursMillis = answer.get("quantilesMillis").get(PercentileService.quantileKey(q)).asDouble();
            double bucketMillis = histogramQuantile(q, PROMETHEUS_DEFAULT_BUCKETS_SECONDS, cumulative, raw.size()) * 1e3;
            double oursError = (oursMillis - exactMillis) / exactMillis;
            double bucketError = (bucketMillis - exactMillis) / exactMillis;
            System.out.printf(Locale.ROOT, "%-8s %10.3f %12.3f %+8.3f%% %20.3f %+8.2f%%%n", q, exactMillis, oursMillis,
                    oursError * 100, bucketMillis, bucketError * 100);

            // HdrHistogram's 0.1%, plus the JSON's rounding to the microsecond
            assertThat(Math.abs(oursMillis - exactMillis)).as("p%s", q).isLessThanOrEqualTo(exactMillis * 0.001 + 0.0005);
            worstBucketError = Math.max(worstBucketError, Math.abs(bucketError));
        }
        assertThat(worstBucketError).as("the bucket estimate's worst error").isGreaterThan(0.05);
    }

    private static String get(QueryApi api, String pathAndQuery) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + api.port()
                + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
