package io.tailprobe.aggregator;

import java.util.Locale;

/** Why a record went to the dead-letter topic; the value of its {@code tailprobe.reason} header. */
public enum DeadLetterReason {
    /** Not a single-object-encoded LatencySample of a known schema. */
    UNDECODABLE,
    /** Decoded, but a field breaks a rule (negative or absurd duration, empty name, …). */
    INVALID,
    /** The record key is not the sample's series, so it may sit in the wrong partition. */
    KEY_MISMATCH,
    /** Its window had closed (window end + grace passed in stream time). */
    LATE;

    public String header() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
