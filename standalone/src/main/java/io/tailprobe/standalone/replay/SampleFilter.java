package io.tailprobe.standalone.replay;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Which samples a replay takes: those scheduled in {@code [fromMillis, toMillis)} whose fields equal
 * every filter given (null for any) and which carry every label given with its value.
 *
 * <p>Example: {@code --target db --label region=eu-west-1} over 14:00-15:00 takes every probe type,
 * protocol and host of target {@code db} whose samples carry {@code region=eu-west-1}.
 */
record SampleFilter(String target, String probeType, String protocol, String host, Map<String, String> labels,
                    long fromMillis, long toMillis) {
    SampleFilter {
        labels = Map.copyOf(labels);
    }

    boolean matches(LatencySample sample) {
        long scheduledMillis = sample.getScheduledStartMicros() / 1_000L;
        if (scheduledMillis < fromMillis || scheduledMillis >= toMillis
                || (target != null && !target.equals(sample.getTarget()))
                || (probeType != null && !probeType.equals(sample.getProbeType()))
                || (protocol != null && !protocol.equals(sample.getProtocol()))
                || (host != null && !host.equals(sample.getHost()))) {
            return false;
        }
        Map<String, String> sampleLabels = sample.getLabels();
        for (Map.Entry<String, String> label : labels.entrySet()) {
            if (sampleLabels == null || !label.getValue().equals(sampleLabels.get(label.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The partitions that can hold matching samples: the one of the series when target, probe type and
     * protocol are all given (samples are keyed by series), else all of them.
     */
    List<Integer> partitions(int partitionCount) {
        if (target != null && probeType != null && protocol != null) {
            return List.of(Topics.seriesPartition(new SeriesKey(target, probeType, protocol), partitionCount));
        }
        return IntStream.range(0, partitionCount).boxed().toList();
    }
}
