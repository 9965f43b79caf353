package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.time.Duration;

/**
 * The aggregator's rules for one sample record, apart from time: which records are dead-lettered
 * (undecodable, invalid, keyed under another series), the time a sample belongs to, and which samples
 * and durations go into the latency histograms. {@link WindowProcessor} applies them to every record,
 * and {@code tailprobe replay} applies the same ones, so that a replay counts exactly what the
 * aggregator counted.
 *
 * <p>Example: with the default {@code maxLatency} of 1 h, a TIMEOUT sample of {@code db|tcp|tcp} with a
 * response time of 2 s is accepted and counted under its outcome but recorded in no histogram; one with
 * a response time of 2 h is invalid; one keyed {@code db|tcp|udp} is a key mismatch.
 */
public final class SampleRules {
    private final long maxLatencyNanos;

    /** @param maxLatency the aggregator's {@code maxLatency}: a longer service or response time is invalid */
    public SampleRules(Duration maxLatency) {
        if (!maxLatency.isPositive()) {
            throw new IllegalArgumentException("maxLatency must be > 0, got " + maxLatency);
        }
        this.maxLatencyNanos = maxLatency.toNanos();
    }

    public static SampleRules of(AggregatorConfig config) {
        return new SampleRules(config.maxLatency());
    }

    /**
     * What the aggregator does with one record: add its {@link #sample()} to a window, or dead-letter it
     * for {@link #reason()} ({@code late} is decided by the window, not here).
     *
     * @param sample the decoded sample; also of a rejected record when it could be decoded (so a replay
     *     can tell whether its filters match), null when undecodable
     */
    public record Verdict(LatencySample sample, DeadLetterReason reason, String detail) {
        static Verdict rejected(DeadLetterReason reason, String detail, LatencySample sample) {
            return new Verdict(sample, reason, detail);
        }

        public boolean accepted() {
            return reason == null;
        }
    }

    /** The sample in {@code value} when it is decodable and valid (the key is not looked at). */
    public Verdict decodeAndValidate(byte[] value) {
        LatencySample sample;
        try {
            sample = Topics.sampleSerde().decode(value);
        } catch (RuntimeException e) {
            return Verdict.rejected(DeadLetterReason.UNDECODABLE, e.getMessage(), null);
        }
        String invalid = invalid(sample);
        return invalid != null ? Verdict.rejected(DeadLetterReason.INVALID, invalid, sample) : new Verdict(sample, null, null);
    }

    /** Every rule for a record keyed {@code key} (null for none) holding {@code value}. */
    public Verdict check(String key, byte[] value) {
        Verdict verdict = decodeAndValidate(value);
        if (!verdict.accepted()) {
            return verdict;
        }
        String mismatch = keyMismatch(key, SeriesKey.of(verdict.sample()).encode());
        return mismatch != null ? Verdict.rejected(DeadLetterReason.KEY_MISMATCH, mismatch, verdict.sample())
                : verdict;
    }

    /** Why a decoded sample is invalid, or null when it is valid. */
    public String invalid(LatencySample s) {
        return invalid(s.getHost(), s.getTarget(), s.getProbeType(), s.getProtocol(), s.getScheduledStartMicros(),
                s.getServiceTimeNanos(), s.getResponseTimeNanos());
    }

    /** Why a sample read by {@link SampleReader} is invalid, or null when it is valid. */
    String invalid(SampleFields s) {
        return invalid(s.host, s.target, s.probeType, s.protocol, s.scheduledStartMicros, s.serviceTimeNanos,
                s.responseTimeNanos);
    }

    private String invalid(String host, String target, String probeType, String protocol, long scheduledStartMicros,
                           long serviceTimeNanos, long responseTimeNanos) {
        String bad = badName("host", host);
        bad = bad != null ? bad : badName("target", target);
        bad = bad != null ? bad : badName("probeType", probeType);
        bad = bad != null ? bad : badName("protocol", protocol);
        if (bad != null) {
            return bad;
        }
        if (scheduledStartMicros <= 0) {
            return "scheduledStartMicros must be > 0, got " + scheduledStartMicros;
        }
        if (serviceTimeNanos < 0 || serviceTimeNanos > maxLatencyNanos) {
            return "serviceTimeNanos must be in [0, " + maxLatencyNanos + "], got " + serviceTimeNanos;
        }
        if (responseTimeNanos < 0 || responseTimeNanos > maxLatencyNanos) {
            return "responseTimeNanos must be in [0, " + maxLatencyNanos + "], got " + responseTimeNanos;
        }
        return null;
    }

    /**
     * Why a record keyed {@code key} may not hold a sample of {@code seriesKey} (it may sit in another
     * series' partition), or null when the key is the sample's series.
     */
    public static String keyMismatch(String key, String seriesKey) {
        return seriesKey.equals(key) ? null
                : "record key \"" + key + "\" is not the sample's series \"" + seriesKey + "\"";
    }

    /** The sample's event time, which picks its window: the scheduled start, in epoch milliseconds. */
    public static long eventMillis(LatencySample sample) {
        return eventMillis(sample.getScheduledStartMicros());
    }

    static long eventMillis(long scheduledStartMicros) {
        return scheduledStartMicros / 1000L;
    }

    /**
     * Whether the sample's durations go into the latency histograms: OK samples only (a timeout's latency
     * is unknown, only bounded below). Every sample counts under its outcome.
     */
    public static boolean recordsLatency(Outcome outcome) {
        return outcome == Outcome.OK;
    }

    private static String badName(String field, String value) {
        if (value == null || value.isEmpty() || value.indexOf(SeriesKey.SEPARATOR) >= 0) {
            return field + " must be non-empty and free of '" + SeriesKey.SEPARATOR + "', got \"" + value + "\"";
        }
        return null;
    }
}
