package io.tailprobe.common;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Human durations in configuration: {@code 250ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 2d}, {@code 750us}. */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(-?\\d+)\\s*(ns|us|µs|ms|s|m|h|d)");

    private Durations() {}

    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: \"" + text
                    + "\" (expected a number and a unit: ns, us, ms, s, m, h or d, e.g. 10s)");
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ns" -> Duration.ofNanos(amount);
            case "us", "µs" -> Duration.ofNanos(amount * 1_000L);
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    /** The shortest exact form: 10s, 250ms, 1500us. */
    public static String format(Duration duration) {
        long nanos = duration.toNanos();
        if (nanos % 86_400_000_000_000L == 0 && nanos != 0) return nanos / 86_400_000_000_000L + "d";
        if (nanos % 3_600_000_000_000L == 0 && nanos != 0) return nanos / 3_600_000_000_000L + "h";
        if (nanos % 60_000_000_000L == 0 && nanos != 0) return nanos / 60_000_000_000L + "m";
        if (nanos % 1_000_000_000L == 0) return nanos / 1_000_000_000L + "s";
        if (nanos % 1_000_000L == 0) return nanos / 1_000_000L + "ms";
        if (nanos % 1_000L == 0) return nanos / 1_000L + "us";
        return nanos + "ns";
    }
}
