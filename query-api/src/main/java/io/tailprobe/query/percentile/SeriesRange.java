package io.tailprobe.query.percentile;

import io.tailprobe.schemas.HistogramKey;
import java.util.Objects;

/**
 * What a query reads, already validated by the caller: target and probe type, optionally one protocol
 * (null reads every protocol of the target and probe), a host ({@code "*"} = fleet-wide), the time range
 * {@code [fromMillis, toMillis)} and optionally one stored resolution (0 = the finest, with closed
 * rollups standing in wherever they fit). Example: {@code new SeriesRange("db", "tcp", null, "*",
 * 1795442400000L, 1795446000000L, 0)} is the fleet-wide hour from 2026-11-23T14:00Z.
 */
public record SeriesRange(String target, String probeType, String protocol, String host, long fromMillis,
                          long toMillis, int resolutionSeconds) {
    public SeriesRange {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(probeType, "probeType");
        host = host == null ? HistogramKey.FLEET : host;
        if (resolutionSeconds < 0) {
            throw new IllegalArgumentException("resolutionSeconds must be >= 0, got " + resolutionSeconds);
        }
    }

    /** "target=db, probe=tcp, protocol=tcp, host=*" as error messages name it. */
    String describe() {
        return "target=" + target + ", probe=" + probeType + (protocol == null ? "" : ", protocol=" + protocol)
                + ", host=" + host;
    }
}
