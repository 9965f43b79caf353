package io.tailprobe.schemas;


/**
 * The key of {@code latency.histograms}: series, host (or {@link #FLEET}), resolution and window
 * start, laid out so that keys sort by series, host, resolution and then time; a range scan
 * between two keys of one series returns its windows in time order.
 * Example: {@code db|tcp|tcp|*|10|0001763900000000}.
 */
public record HistogramKey(SeriesKey series, String host, int resolutionSeconds, long windowStartMillis) {
    /** The host name of fleet-wide series. */
    public static final String FLEET = "*";
    /** The window start is zero-padded to this many digits, so keys sort by time. */
    private static final int START_DIGITS = 16;

    public HistogramKey {
        SeriesKey.requireClean("host", host);
        if (resolutionSeconds <= 0) {
            throw new IllegalArgumentException("resolutionSeconds must be > 0, got " + resolutionSeconds);
        }
        if (windowStartMillis < 0) {
            throw new IllegalArgumentException("windowStartMillis must be >= 0, got " + windowStartMillis);
        }
    }

    public static HistogramKey of(WindowedHistogram histogram) {
        return new HistogramKey(SeriesKey.of(histogram), histogram.getHost(),
                histogram.getResolutionSeconds(), histogram.getWindowStartMillis());
    }

    /** Parses {@link #encode()}'s layout back; throws IllegalArgumentException naming the problem. */
    public static HistogramKey parse(String encoded) {
        String[] parts = encoded.split("\\|", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("histogram key must have 6 '|'-separated parts, got \"" + encoded + "\"");
        }
        try {
            return new HistogramKey(new SeriesKey(parts[0], parts[1], parts[2]), parts[3],
                    Integer.parseInt(parts[4]), Long.parseLong(parts[5]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("histogram key has a non-numeric resolution or start: \"" + encoded + "\"", e);
        }
    }

    public String encode() {
        String start = Long.toString(windowStartMillis);
        return prefix(series, host, resolutionSeconds) + "0".repeat(Math.max(0, START_DIGITS - start.length())) + start;
    }

    /** Every key of one series, host and resolution starts with this. */
    public static String prefix(SeriesKey series, String host, int resolutionSeconds) {
        return series.encode() + SeriesKey.SEPARATOR + host + SeriesKey.SEPARATOR + resolutionSeconds
                + SeriesKey.SEPARATOR;
    }

    @Override
    public String toString() {
        return encode();
    }
}
