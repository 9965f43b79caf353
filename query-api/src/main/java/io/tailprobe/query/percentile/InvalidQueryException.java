package io.tailprobe.query.percentile;

/**
 * A parameter that is well-formed but does not fit the stored data, e.g. {@code step=15s} for a series
 * stored at 10 s, or a {@code resolution} the series does not have; the API answers 400 naming the
 * parameter, the rule and the value, as for any other bad parameter.
 */
public final class InvalidQueryException extends RuntimeException {
    private final String parameter;
    private final String value;

    public InvalidQueryException(String parameter, String rule, String value) {
        super(rule);
        this.parameter = parameter;
        this.value = value;
    }

    public String parameter() {
        return parameter;
    }

    public String rule() {
        return getMessage();
    }

    public String value() {
        return value;
    }
}
