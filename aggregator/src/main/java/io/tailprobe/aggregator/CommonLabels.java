package io.tailprobe.aggregator;

import java.util.HashMap;
import java.util.Map;

/**
 * The labels every sample (or window) of a window carries with the same value: a host's labels, and for
 * a fleet-wide window those all its hosts share (a region, not an az). Nothing before the first.
 */
final class CommonLabels {
    private Map<String, String> labels;
    /** {@link #labels} as two arrays, for the check every sample makes. */
    private String[] keys = new String[0];
    private String[] values = new String[0];
    /**
     * The last sample's labels map, found to hold every label kept: a {@link SampleReader} hands the same
     * read-only map to every sample of a host, so the next sample with it needs no look-ups. Still true
     * after labels are dropped, as the labels kept only shrink.
     */
    private Map<String, String> held;

    /** Keeps only the labels a sample's {@code labels} has with the same value; the first sample's are taken whole. */
    void keepSampleLabels(Map<String, String> sampleLabels) {
        if (sampleLabels != held) {
            keep(sampleLabels);
            held = sampleLabels;
        }
    }

    /** Keeps only the labels {@code other} also kept (nothing is dropped for an other that has seen nothing). */
    void keepCommon(CommonLabels other) {
        if (other.labels != null) {
            keep(other.labels);
        }
    }

    /** Keeps only the labels {@code more} has with the same value; the first labels are taken whole. */
    void keep(Map<String, String> more) {
        if (labels == null) {
            labels = more == null ? new HashMap<>() : new HashMap<>(more);
            changed();
        } else if (!hasAll(more)) {
            labels.entrySet().removeIf(label -> more == null || !label.getValue().equals(more.get(label.getKey())));
            changed();
        }
    }

    /** The labels kept, empty before any. */
    Map<String, String> labels() {
        return labels == null ? Map.of() : labels;
    }

    /**
     * Whether {@code more} has every label kept so far with the same value: nothing to remove then
     * (labels it has beyond them were dropped before). Every sample asks, so this reads two small
     * arrays instead of iterating a map (Map.equals was a tenth of the stream thread's CPU).
     */
    private boolean hasAll(Map<String, String> more) {
        if (more == null) {
            return keys.length == 0;
        }
        for (int i = 0; i < keys.length; i++) {
            if (!values[i].equals(more.get(keys[i]))) {
                return false;
            }
        }
        return true;
    }

    private void changed() {
        keys = labels.keySet().toArray(String[]::new);
        values = new String[keys.length];
        for (int i = 0; i < keys.length; i++) {
            values[i] = labels.get(keys[i]);
        }
    }
}
