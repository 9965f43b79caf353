package io.tailprobe.query;

import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.WindowedHistogram;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A known data set: series {@code demo-tcp|tcp|tcp} seen from hosts a, b and c over ten 10 s windows
 * starting 2026-11-23T14:00:00Z (windows 0..9), each host with its own latency spread between 1 ms and
 * 500 ms and some timeouts; fleet-wide windows merge the same raw values. Window -1 (13:59:50) and
 * window 10 (14:01:40) hold 5 s outliers that in-range queries must not see. Host windows carry a
 * {@code region} label ({@link #region}).
 */
public final class SampleFleet {
    public static final long T0_MILLIS = 1_795_442_400_000L; // 2026-11-23T14:00:00Z
    public static final SeriesKey SERIES = new SeriesKey("demo-tcp", "tcp", "tcp");
    public static final List<String> HOSTS = List.of("a", "b", "c");
    public static final int WINDOWS = 10;
    public static final int SAMPLES_PER_HOST_WINDOW = 300;
    public static final long TIMEOUTS_PER_HOST_WINDOW = 2;
    public static final long OUTLIER_NANOS = 5_000_000_000L;

    /** raw[host][window] = response times in ns. */
    private final long[][][] raw = new long[HOSTS.size()][WINDOWS][];

    public SampleFleet() {
        Random random = new Random(42);
        for (int h = 0; h < HOSTS.size(); h++) {
            // host a is fast, b medium, c slow with a long tail
            double scaleNanos = (h + 1) * 4_000_000.0;
            for (int w = 0; w < WINDOWS; w++) {
                long[] values = new long[SAMPLES_PER_HOST_WINDOW];
                for (int i = 0; i < values.length; i++) {
                    double lognormal = Math.exp(random.nextGaussian() * 0.8);
                    values[i] = Math.clamp((long) (scaleNanos * lognormal), 1_000_000L, 500_000_000L);
                }
                raw[h][w] = values;
            }
        }
    }

    /** The region label of a host's windows: a and b are in eu-west-1, c in us-east-1; fleet-wide windows have none. */
    public static String region(String host) {
        return host.equals("c") ? "us-east-1" : "eu-west-1";
    }

    public static long windowStartMillis(int window) {
        return T0_MILLIS + window * TestWindows.RESOLUTION_MILLIS;
    }

    /** Every raw response time of {@code hosts} in windows {@code [fromWindow, toWindow)}. */
    public List<Long> responseNanos(List<String> hosts, int fromWindow, int toWindow) {
        List<Long> values = new ArrayList<>();
        for (String host : hosts) {
            for (int w = fromWindow; w < toWindow; w++) {
                for (long v : raw[HOSTS.indexOf(host)][w]) {
                    values.add(v);
                }
            }
        }
        return values;
    }

    public List<Long> serviceNanos(List<String> hosts, int fromWindow, int toWindow) {
        return responseNanos(hosts, fromWindow, toWindow).stream().map(TestWindows::serviceNanos).toList();
    }

    /** Fills {@code store} with host and fleet-wide windows, and the out-of-range outliers. */
    public InMemoryHistogramStore fill(InMemoryHistogramStore store) {
        for (int w = 0; w < WINDOWS; w++) {
            List<Long> fleet = new ArrayList<>();
            for (int h = 0; h < HOSTS.size(); h++) {
                store.put(WindowedHistogram.newBuilder(TestWindows.window(SERIES, HOSTS.get(h), windowStartMillis(w),
                        raw[h][w], TIMEOUTS_PER_HOST_WINDOW)).setLabels(Map.of("region", region(HOSTS.get(h)))).build());
                for (long v : raw[h][w]) {
                    fleet.add(v);
                }
            }
            store.put(TestWindows.window(SERIES, HistogramKey.FLEET, windowStartMillis(w),
                    fleet.stream().mapToLong(Long::longValue).toArray(), TIMEOUTS_PER_HOST_WINDOW * HOSTS.size()));
        }
        for (int outside : new int[] {-1, WINDOWS}) {
            for (String host : List.of("a", "b", "c", HistogramKey.FLEET)) {
                WindowedHistogram outlier = TestWindows.window(SERIES, host, windowStartMillis(outside),
                        new long[] {OUTLIER_NANOS}, 0);
                store.put(host.equals(HistogramKey.FLEET) ? outlier
                        : WindowedHistogram.newBuilder(outlier).setLabels(Map.of("region", region(host))).build());
            }
        }
        return store;
    }
}
