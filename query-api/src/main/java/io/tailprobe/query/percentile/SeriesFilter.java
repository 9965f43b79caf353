package io.tailprobe.query.percentile;

import io.tailprobe.query.store.SeriesInfo;

/** Filters for listing series; a null field matches everything, e.g. {@code new SeriesFilter("db", null, null, "*")}. */
public record SeriesFilter(String target, String probeType, String protocol, String host) {
    public static final SeriesFilter ALL = new SeriesFilter(null, null, null, null);

    public boolean matches(SeriesInfo info) {
        return (target == null || target.equals(info.target()))
                && (probeType == null || probeType.equals(info.probeType()))
                && (protocol == null || protocol.equals(info.protocol()))
                && (host == null || host.equals(info.host()));
    }
}
