package io.tailprobe.query.percentile;

/**
 * No stored series matches the query at all (as opposed to a known series with no window in the
 * range, which is an empty answer). Names the first query parameter that matched nothing, e.g.
 * {@code probe} when target {@code db} exists only with probe type {@code tcp}.
 */
public final class UnknownSeriesException extends RuntimeException {
    private final String parameter;
    private final String value;

    public UnknownSeriesException(String parameter, String value, String message) {
        super(message);
        this.parameter = parameter;
        this.value = value;
    }

    public String parameter() {
        return parameter;
    }

    public String value() {
        return value;
    }
}
