package io.tailprobe.query.percentile;

import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Which latency of a window a query reads: {@code response} (from the scheduled start, corrected for
 * coordinated omission), {@code service} (from the actual start) or one phase of the probe
 * ({@code dns}, {@code connect}, {@code tls}, {@code requestWrite}, {@code firstByte},
 * {@code transfer}). Response and service time have exact extremes stored beside their histograms;
 * a phase has only its histogram, so its min and max are within 0.1% like its quantiles.
 */
public record Latency(String name) {
    /** Every name {@link #parse} accepts, response and service first, then the phases in order. */
    public static final List<String> NAMES = names();
    public static final Latency RESPONSE = new Latency("response");
    public static final Latency SERVICE = new Latency("service");

    public Latency {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("latency must be one of " + String.join(", ", NAMES) + ", got " + name);
        }
    }

    /** The latency called {@code name}; throws IllegalArgumentException naming the allowed ones. */
    public static Latency parse(String name) {
        return new Latency(name);
    }

    public boolean isPhase() {
        return !equals(RESPONSE) && !equals(SERVICE);
    }

    /** The window's encoded histogram of this latency; null when the window has none (a phase it lacks). */
    ByteBuffer histogram(WindowedHistogram window) {
        return switch (name) {
            case "response" -> window.getResponseTimeHistogram();
            case "service" -> window.getServiceTimeHistogram();
            default -> window.getPhaseHistograms().get(name);
        };
    }

    /** The window's exact minimum, or null when it is not stored (phases, empty windows). */
    Long exactMinNanos(WindowedHistogram window) {
        return switch (name) {
            case "response" -> window.getMinResponseTimeNanos();
            case "service" -> window.getMinServiceTimeNanos();
            default -> null;
        };
    }

    /** The window's exact maximum, or null when it is not stored (phases, empty windows). */
    Long exactMaxNanos(WindowedHistogram window) {
        return switch (name) {
            case "response" -> window.getMaxResponseTimeNanos();
            case "service" -> window.getMaxServiceTimeNanos();
            default -> null;
        };
    }

    @Override
    public String toString() {
        return name;
    }

    private static List<String> names() {
        List<String> names = new ArrayList<>(List.of("response", "service"));
        names.addAll(Phases.NAMES);
        return List.copyOf(names);
    }
}
