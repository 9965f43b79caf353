package io.tailprobe.aggregator;

import io.tailprobe.schemas.Topics;

/**
 * The aggregator's own reading of a sample record ({@link SampleReader}, Avro's decoder for what it leaves),
 * for the benchmark's floors: what reading costs the aggregator before it aggregates anything. Lives in the
 * aggregator's package, in the bench module only, to reach the package-private reader. One per thread.
 */
public final class ReaderAlone {
    private final SampleReader reader = new SampleReader();
    private final SampleFields fields = new SampleFields();

    /** Reads {@code value} as the aggregator does and returns its service time in nanoseconds. */
    public long serviceTimeNanos(byte[] value) {
        if (reader.read(value, fields)) {
            return fields.serviceTimeNanos;
        }
        return Topics.sampleSerde().decode(value).getServiceTimeNanos();
    }
}
