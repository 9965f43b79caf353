package io.tailprobe.query.http;

import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.tailprobe.common.Durations;
import io.tailprobe.query.percentile.Latency;
import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.SeriesKey;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and checks query parameters; every violation is a {@link BadRequestResponse} whose details
 * name the parameter, the rule and the value, e.g. {@code quantiles}, "each quantile must be a number
 * in [0, 1]", {@code 1.5}.
 */
final class QueryParameters {
    static final int MAX_QUANTILES = 20;

    private QueryParameters() {}

    /** A required name such as {@code target}: present, not blank, no {@code |}. */
    static String requiredName(Context ctx, String parameter) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isBlank()) {
            throw badRequest(parameter, "is required", value == null ? "" : value);
        }
        return checkName(parameter, value);
    }

    /** An optional name such as {@code protocol}: null when absent or empty. */
    static String optionalName(Context ctx, String parameter) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isEmpty()) {
            return null;
        }
        return checkName(parameter, value);
    }

    private static String checkName(String parameter, String value) {
        if (value.isBlank() || value.indexOf(SeriesKey.SEPARATOR) >= 0) {
            throw badRequest(parameter, "must be non-blank and must not contain '" + SeriesKey.SEPARATOR + "'", value);
        }
        return value;
    }

    /**
     * Label filters, each {@code label=key=value} (repeatable, all must match), e.g.
     * {@code label=region=eu-west-1&label=az=eu-west-1a}; empty when absent.
     */
    static Map<String, String> labels(Context ctx) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (String value : ctx.queryParams("label")) {
            int eq = value.indexOf('=');
            if (eq <= 0) {
                throw badRequest("label", "must be key=value, e.g. label=region=eu-west-1", value);
            }
            String key = value.substring(0, eq);
            String previous = labels.put(key, value.substring(eq + 1));
            if (previous != null && !previous.equals(labels.get(key))) {
                throw badRequest("label", "names " + key + " twice with different values", value);
            }
        }
        return labels;
    }

    /**
     * An instant as epoch milliseconds ({@code 1795442520000}) or ISO-8601
     * ({@code 2026-11-23T14:02:00Z}, {@code 2026-11-23T15:02:00+01:00}); {@code fallback} when absent.
     */
    static long instantMillis(Context ctx, String parameter, long fallbackMillis) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isEmpty()) {
            return fallbackMillis;
        }
        long millis;
        if (value.matches("-?\\d{1,19}")) {
            try {
                millis = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw badRequest(parameter, "must be epoch milliseconds or an ISO-8601 instant", value);
            }
        } else {
            millis = parseIso(parameter, value);
        }
        if (millis < 0) {
            throw badRequest(parameter, "must not be before 1970-01-01T00:00:00Z", value);
        }
        return millis;
    }

    private static long parseIso(String parameter, String value) {
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            try {
                return OffsetDateTime.parse(value).toInstant().toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e2) {
                throw badRequest(parameter,
                        "must be epoch milliseconds or an ISO-8601 instant such as 2026-11-23T14:02:00Z", value);
            }
        }
    }

    /** Checks {@code from < to} and {@code to - from <= maxRange}; both failures name {@code from}. */
    static void checkRange(Context ctx, long fromMillis, long toMillis, Duration maxRange) {
        String from = ctx.queryParam("from") == null ? Long.toString(fromMillis) : ctx.queryParam("from");
        if (fromMillis >= toMillis) {
            throw badRequest("from", "must be before to (" + toMillis + " ms)", from);
        }
        if (toMillis - fromMillis > maxRange.toMillis()) {
            throw badRequest("from", "the range to - from must be at most " + Durations.format(maxRange), from);
        }
    }

    /** Comma-separated quantiles in [0, 1], at most {@value #MAX_QUANTILES}; duplicates kept once, order kept. */
    static List<Double> quantiles(Context ctx, List<Double> fallback) {
        String value = ctx.queryParam("quantiles");
        if (value == null || value.isBlank()) {
            return fallback;
        }
        String[] parts = value.split(",", -1);
        if (parts.length > MAX_QUANTILES) {
            throw badRequest("quantiles", "at most " + MAX_QUANTILES + " quantiles, got " + parts.length, value);
        }
        List<Double> quantiles = new ArrayList<>();
        for (String part : parts) {
            double quantile;
            try {
                quantile = Double.parseDouble(part.strip());
            } catch (NumberFormatException e) {
                throw badRequest("quantiles", "each quantile must be a number in [0, 1]", part);
            }
            if (!(quantile >= 0.0 && quantile <= 1.0)) {
                throw badRequest("quantiles", "each quantile must be a number in [0, 1]", part);
            }
            if (!quantiles.contains(quantile)) {
                quantiles.add(quantile);
            }
        }
        return quantiles;
    }

    /** Which latency to read: {@code response}, {@code service} or a phase name; {@code fallback} when absent. */
    static Latency latency(Context ctx, Latency fallback) {
        String value = ctx.queryParam("latency");
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        if (!Latency.NAMES.contains(value)) {
            throw badRequest("latency", "must be one of " + String.join(", ", Latency.NAMES), value);
        }
        return Latency.parse(value);
    }

    /** Comma-separated phase names, e.g. {@code connect,firstByte}; duplicates kept once, order kept. */
    static List<Latency> phases(Context ctx) {
        String value = ctx.queryParam("phases");
        if (value == null || value.isBlank()) {
            return List.of();
        }
        List<Latency> phases = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String name = part.strip();
            if (!Phases.NAMES.contains(name)) {
                throw badRequest("phases", "each phase must be one of " + String.join(", ", Phases.NAMES), part);
            }
            Latency phase = Latency.parse(name);
            if (!phases.contains(phase)) {
                phases.add(phase);
            }
        }
        return phases;
    }

    /**
     * A positive whole number of seconds written as a duration ({@code 10s}, {@code 5m}, {@code 1h},
     * {@code 1d}) or as plain seconds ({@code 60}); 0 when absent.
     */
    static long seconds(Context ctx, String parameter) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isEmpty()) {
            return 0;
        }
        String rule = "must be a positive whole number of seconds, as a duration such as 10s, 5m or 1h or as seconds";
        try {
            Duration duration = value.matches("\\d{1,9}") ? Duration.ofSeconds(Long.parseLong(value))
                    : Durations.parse(value);
            if (duration.isPositive() && duration.getNano() == 0 && duration.toSeconds() <= Integer.MAX_VALUE) {
                return duration.toSeconds();
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            // reported below
        }
        throw badRequest(parameter, rule, value);
    }

    /** A required positive latency such as {@code 200ms}, {@code 1500us} or {@code 2s}, in nanoseconds. */
    static long requiredLatencyNanos(Context ctx, String parameter) {
        String value = ctx.queryParam(parameter);
        String rule = "must be a positive duration such as 200ms, 1500us or 2s";
        if (value == null || value.isBlank()) {
            throw badRequest(parameter, "is required and " + rule, value == null ? "" : value);
        }
        try {
            Duration duration = Durations.parse(value);
            if (duration.isPositive()) {
                return duration.toNanos();
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            // reported below
        }
        throw badRequest(parameter, rule, value);
    }

    /** An optional fraction strictly between 0 and 1, e.g. {@code 0.99}; null when absent. */
    static Double openFraction(Context ctx, String parameter) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            double fraction = Double.parseDouble(value);
            if (fraction > 0.0 && fraction < 1.0) {
                return fraction;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw badRequest(parameter, "must be a number in (0, 1), e.g. 0.99 for 99%", value);
    }

    /** One of {@code allowed}; {@code allowed.getFirst()} when absent. */
    static String oneOf(Context ctx, String parameter, List<String> allowed) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isEmpty()) {
            return allowed.getFirst();
        }
        if (!allowed.contains(value)) {
            throw badRequest(parameter, "must be one of " + String.join(", ", allowed), value);
        }
        return value;
    }

    /** A whole number in {@code [min, max]}; {@code fallback} when absent. */
    static int integer(Context ctx, String parameter, int min, int max, int fallback) {
        String value = ctx.queryParam(parameter);
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        String rule = "must be a whole number in [" + min + ", " + max + "]";
        try {
            int parsed = Integer.parseInt(value);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw badRequest(parameter, rule, value);
    }

    static BadRequestResponse badRequest(String parameter, String rule, String value) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("parameter", parameter);
        details.put("rule", rule);
        details.put("value", value);
        return new BadRequestResponse(parameter + " " + rule, details);
    }
}
