package io.tailprobe.query.percentile;

import static io.tailprobe.query.SampleFleet.HOSTS;
import static io.tailprobe.query.SampleFleet.SAMPLES_PER_HOST_WINDOW;
import static io.tailprobe.query.SampleFleet.TIMEOUTS_PER_HOST_WINDOW;
import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.TestWindows;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import org.HdrHistogram.Histogram;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PercentileServiceTest {
    private static final List<Double> QUANTILES = List.of(0.5, 0.99, 0.999);

    private final SampleFleet fleet = new SampleFleet();
    private final InMemoryHistogramStore store = fleet.fill(new InMemoryHistogramStore());
    private final PercentileService service = new PercentileService(store);

    /** A percentile query of response and service time only, at the resolution chosen from the range. */
    static PercentileQuery query(String target, String probe, String protocol, String host, long fromMillis,
                                 long toMillis, List<Double> quantiles) {
        return new PercentileQuery(new SeriesRange(target, probe, protocol, host, fromMillis, toMillis, 0), quantiles,
                List.of());
    }

    /** HdrHistogram at 3 significant digits is within 0.1%; the JSON rounds to the microsecond on top. */
    static void assertWithinPrecision(double actualMillis, long exactNanos) {
        double exactMillis = TestWindows.millis(exactNanos);
        assertThat(Math.abs(actualMillis - exactMillis))
                .as("%.6f ms vs exact %.6f ms", actualMillis, exactMillis)
                .isLessThanOrEqualTo(exactMillis * 0.001 + 0.0005);
    }

    private static void assertSummaryMatches(LatencySummary summary, List<Long> rawNanos) {
        assertThat(summary.count()).isEqualTo(rawNanos.size());
        assertThat(summary.minMillis()).isEqualTo(Math.round(Collections.min(rawNanos) / 1_000.0) / 1_000.0);
        assertThat(summary.maxMillis()).isEqualTo(Math.round(Collections.max(rawNanos) / 1_000.0) / 1_000.0);
        assertWithinPrecision(summary.meanMillis(),
                Math.round(rawNanos.stream().mapToLong(Long::longValue).average().orElseThrow()));
        assertThat(summary.quantilesMillis()).containsOnlyKeys("0.5", "0.99", "0.999");
        for (double q : QUANTILES) {
            assertWithinPrecision(summary.quantilesMillis().get(PercentileService.quantileKey(q)),
                    TestWindows.exactQuantile(rawNanos, q));
        }
    }

    @Test
    void fleet_wide_percentiles_equal_the_exact_ones_of_every_hosts_raw_values_within_a_tenth_of_a_percent() {
        PercentileResult result = service.percentiles(query("demo-tcp", "tcp", "tcp", null,
                windowStartMillis(0), windowStartMillis(SampleFleet.WINDOWS), QUANTILES));

        assertThat(result.host()).isEqualTo(HistogramKey.FLEET);
        assertThat(result.windows()).isEqualTo(SampleFleet.WINDOWS);
        long ok = (long) HOSTS.size() * SampleFleet.WINDOWS * SAMPLES_PER_HOST_WINDOW;
        long timeouts = HOSTS.size() * SampleFleet.WINDOWS * TIMEOUTS_PER_HOST_WINDOW;
        assertThat(result.count()).isEqualTo(ok + timeouts);
        assertThat(result.outcomes()).containsExactlyEntriesOf(
                new TreeMap<>(Map.of("OK", ok, "TIMEOUT", timeouts)));
        assertSummaryMatches(result.responseTime(), fleet.responseNanos(HOSTS, 0, SampleFleet.WINDOWS));
        assertSummaryMatches(result.serviceTime(), fleet.serviceNanos(HOSTS, 0, SampleFleet.WINDOWS));
    }

    @Test
    void per_host_percentiles_equal_the_exact_ones_of_that_hosts_raw_values() {
        for (String host : HOSTS) {
            PercentileResult result = service.percentiles(query("demo-tcp", "tcp", "tcp", host,
                    windowStartMillis(0), windowStartMillis(SampleFleet.WINDOWS), QUANTILES));

            assertThat(result.host()).isEqualTo(host);
            assertThat(result.count()).isEqualTo(SampleFleet.WINDOWS * (SAMPLES_PER_HOST_WINDOW + TIMEOUTS_PER_HOST_WINDOW));
            assertSummaryMatches(result.responseTime(), fleet.responseNanos(List.of(host), 0, SampleFleet.WINDOWS));
            assertSummaryMatches(result.serviceTime(), fleet.serviceNanos(List.of(host), 0, SampleFleet.WINDOWS));
        }
    }

    @Test
    void windows_outside_the_range_are_excluded_and_the_window_holding_from_is_included() {
        // from lies 3 s into window 2, to is the start of window 5: windows 2, 3 and 4
        PercentileResult result = service.percentiles(query("demo-tcp", "tcp", null, null,
                windowStartMillis(2) + 3_000, windowStartMillis(5), QUANTILES));

        assertThat(result.windows()).isEqualTo(3);
        assertThat(result.fromMillis()).isEqualTo(windowStartMillis(2));
        assertThat(result.toMillis()).isEqualTo(windowStartMillis(5));
        assertSummaryMatches(result.responseTime(), fleet.responseNanos(HOSTS, 2, 5));
    }

    @Test
    void the_outliers_just_outside_the_range_are_not_merged() {
        PercentileResult result = service.percentiles(query("demo-tcp", "tcp", "tcp", "c",
                windowStartMillis(0), windowStartMillis(SampleFleet.WINDOWS), List.of(1.0)));

        assertThat(result.responseTime().maxMillis()).isLessThan(TestWindows.millis(SampleFleet.OUTLIER_NANOS));

        PercentileResult wider = service.percentiles(query("demo-tcp", "tcp", "tcp", "c",
                windowStartMillis(-1), windowStartMillis(SampleFleet.WINDOWS + 1), List.of(1.0)));
        assertThat(wider.windows()).isEqualTo(SampleFleet.WINDOWS + 2);
        assertThat(wider.responseTime().maxMillis()).isEqualTo(5_000.0);
        assertThat(wider.responseTime().quantilesMillis()).containsEntry("1", 5_000.0);
    }

    @Test
    void a_known_series_with_no_window_in_the_range_answers_count_zero_and_no_quantiles() {
        PercentileResult result = service.percentiles(query("demo-tcp", "tcp", "tcp", null,
                windowStartMillis(100), windowStartMillis(200), QUANTILES));

        assertThat(result.windows()).isZero();
        assertThat(result.count()).isZero();
        assertThat(result.outcomes()).isEmpty();
        assertThat(result.responseTime()).isEqualTo(LatencySummary.EMPTY);
        assertThat(result.serviceTime()).isEqualTo(LatencySummary.EMPTY);
    }

    @Test
    void without_a_protocol_every_protocol_of_the_target_and_probe_is_merged() {
        InMemoryHistogramStore http = new InMemoryHistogramStore();
        long[] h1 = {10_000_000L, 20_000_000L, 30_000_000L};
        long[] h2 = {40_000_000L, 50_000_000L};
        http.put(TestWindows.window(new SeriesKey("web", "http", "http/1.1"), "*", windowStartMillis(0), h1, 0));
        http.put(TestWindows.window(new SeriesKey("web", "http", "h2"), "*", windowStartMillis(0), h2, 1));
        PercentileService httpService = new PercentileService(http);

        PercentileResult merged = httpService.percentiles(query("web", "http", null, null,
                windowStartMillis(0), windowStartMillis(1), List.of(0.5)));
        assertThat(merged.protocol()).isNull();
        assertThat(merged.protocols()).containsExactly("h2", "http/1.1");
        assertThat(merged.count()).isEqualTo(6);
        assertThat(merged.responseTime().count()).isEqualTo(5);
        assertThat(merged.responseTime().minMillis()).isEqualTo(10.0);
        assertThat(merged.responseTime().maxMillis()).isEqualTo(50.0);
        assertWithinPrecision(merged.responseTime().quantilesMillis().get("0.5"), 30_000_000L);

        PercentileResult onlyH2 = httpService.percentiles(query("web", "http", "h2", null,
                windowStartMillis(0), windowStartMillis(1), List.of(0.5)));
        assertThat(onlyH2.protocols()).containsExactly("h2");
        assertThat(onlyH2.responseTime().count()).isEqualTo(2);
        assertThat(onlyH2.outcomes()).containsEntry("TIMEOUT", 1L);
    }

    @Test
    void requested_phases_are_summarized_from_their_histograms_and_windows_without_the_phase_add_nothing() {
        SeriesKey web = new SeriesKey("web", "http", "h2");
        InMemoryHistogramStore phased = new InMemoryHistogramStore();
        List<Long> connectNanos = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            long[] response = new long[100];
            Histogram connect = LatencyHistograms.newHistogram();
            for (int i = 0; i < response.length; i++) {
                response[i] = 20_000_000L + i * 100_000L;
                if (w < 2) { // the third window's connections were all reused: no connect phase
                    long nanos = 1_000_000L + (w * 100L + i) * 7_919L;
                    LatencyHistograms.record(connect, nanos);
                    connectNanos.add(nanos);
                }
            }
            WindowedHistogram window = TestWindows.window(web, HistogramKey.FLEET, windowStartMillis(w), response, 0);
            phased.put(WindowedHistogram.newBuilder(window).setPhaseHistograms(w < 2
                    ? Map.of("connect", ByteBuffer.wrap(LatencyHistograms.encode(connect))) : Map.of()).build());
        }

        PercentileResult result = new PercentileService(phased).percentiles(new PercentileQuery(
                new SeriesRange("web", "http", null, null, windowStartMillis(0), windowStartMillis(3), 0), QUANTILES,
                List.of(Latency.parse("connect"), Latency.parse("tls"))));

        assertThat(result.responseTime().count()).isEqualTo(300);
        assertThat(result.phases()).containsOnlyKeys("connect", "tls");
        assertThat(result.phases().get("tls")).isEqualTo(LatencySummary.EMPTY);
        LatencySummary connect = result.phases().get("connect");
        assertThat(connect.count()).isEqualTo(200);
        for (double q : QUANTILES) {
            assertWithinPrecision(connect.quantilesMillis().get(PercentileService.quantileKey(q)),
                    TestWindows.exactQuantile(connectNanos, q));
        }
        assertWithinPrecision(connect.minMillis(), Collections.min(connectNanos));
        assertWithinPrecision(connect.maxMillis(), Collections.max(connectNanos));
    }

    @Test
    void an_unknown_series_names_the_first_parameter_that_matches_nothing() {
        assertThatThrownBy(() -> service.percentiles(query("nope", "tcp", null, null, 0, 1, QUANTILES)))
                .isInstanceOfSatisfying(UnknownSeriesException.class, e -> {
                    assertThat(e.parameter()).isEqualTo("target");
                    assertThat(e.value()).isEqualTo("nope");
                });
        assertThatThrownBy(() -> service.percentiles(query("demo-tcp", "icmp", null, null, 0, 1, QUANTILES)))
                .isInstanceOfSatisfying(UnknownSeriesException.class, e -> assertThat(e.parameter()).isEqualTo("probe"));
        assertThatThrownBy(() -> service.percentiles(query("demo-tcp", "tcp", "udp", null, 0, 1, QUANTILES)))
                .isInstanceOfSatisfying(UnknownSeriesException.class, e -> assertThat(e.parameter()).isEqualTo("protocol"));
        assertThatThrownBy(() -> service.percentiles(query("demo-tcp", "tcp", null, "z", 0, 1, QUANTILES)))
                .isInstanceOfSatisfying(UnknownSeriesException.class, e -> assertThat(e.parameter()).isEqualTo("host"));
    }

    @Test
    void quantile_keys_are_the_shortest_decimal_form() {
        assertThat(PercentileService.quantileKey(0.5)).isEqualTo("0.5");
        assertThat(PercentileService.quantileKey(0.999)).isEqualTo("0.999");
        assertThat(PercentileService.quantileKey(1.0)).isEqualTo("1");
        assertThat(PercentileService.quantileKey(0.0)).isEqualTo("0");
    }
}
