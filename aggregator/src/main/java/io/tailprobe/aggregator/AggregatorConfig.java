package io.tailprobe.aggregator;

import io.tailprobe.common.ConfigException;
import io.tailprobe.common.Durations;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The aggregator's configuration; see {@link io.tailprobe.common.ConfigLoader} for how files,
 * {@code TAILPROBE_…} variables and {@code --set} flags override it.
 *
 * @param kafka Kafka client properties, passed through (bootstrap.servers, SASL, TLS, …)
 * @param streams the Kafka Streams application
 * @param window the base window: size, grace for late samples, idle close; rollups; retention per resolution
 * @param topics the topics read and written, and the partitions and replication of those the aggregator
 *     creates when missing
 * @param maxLatency samples whose service or response time exceeds this are dead-lettered as absurd
 * @param http the port of the aggregator's {@code /health} and {@code /metrics}
 */
public record AggregatorConfig(Map<String, String> kafka, Streams streams, Window window, TopicsSetup topics,
        Duration maxLatency, Http http) {
    public static final int DEFAULT_HTTP_PORT = 9102;

    public AggregatorConfig {
        http = http == null ? new Http(DEFAULT_HTTP_PORT) : http;
    }

    public AggregatorConfig(Map<String, String> kafka, Streams streams, Window window, TopicsSetup topics,
            Duration maxLatency) {
        this(kafka, streams, window, topics, maxLatency, null);
    }

    /** The aggregator's own {@code /health} and {@code /metrics}; port 0 picks a free port. */
    public record Http(int port) {}


    /**
     * @param processingGuarantee {@code exactly_once_v2} (default) or {@code at_least_once}
     */
    public record Streams(String applicationId, Path stateDir, String processingGuarantee, int threads,
            Duration commitInterval) {}

    /**
     * @param size tumbling window length, e.g. 10s
     * @param grace how long after a window's end its late samples are still accepted (in stream time)
     * @param idleClose when a partition has received nothing for this long (wall clock), its
     *     stream time advances to the wall clock so that the last windows close even when probes stop
     * @param rollups coarser resolutions, each a multiple of the one before (default 1m, 10m and 1h):
     *     the first rollup's windows are made from the samples of the base windows they contain (or, when
     *     longer than six base windows, by adding those windows), and every closed rollup window is added
     *     into the next rollup's (histograms add exactly); rollup windows close like base windows. The 10 min step keeps the edges of a long range cheap
     *     to read: a 7-day range from 14:02:30 reads at most 5 × 10 min, 9 × 1 min and 5 × 10 s windows
     *     at each end instead of up to 59 × 1 min
     * @param retention how long the closed windows of each resolution are kept in their topic, keyed
     *     by the resolution: {@code {10s: 7d, 1m: 90d, 10m: 365d, 1h: 730d}} by default. A map rather than a list
     *     beside {@code rollups}: each figure sits next to the resolution it is for, and one can be
     *     overridden alone ({@code --set window.retention.1h=3650d}, {@code TAILPROBE_WINDOW_RETENTION_1H}).
     *     Every resolution needs one; keys of resolutions not configured are ignored, so the defaults
     *     for 1m, 10m and 1h do no harm when the rollups change.
     */
    public record Window(Duration size, Duration grace, Duration idleClose, List<Duration> rollups,
            Map<String, Duration> retention) {
        public static final List<Duration> DEFAULT_ROLLUPS =
                List.of(Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofHours(1));
        public static final Map<String, Duration> DEFAULT_RETENTION = Map.of("10s", Duration.ofDays(7),
                "1m", Duration.ofDays(90), "10m", Duration.ofDays(365), "1h", Duration.ofDays(730));

        public Window {
            rollups = rollups == null ? DEFAULT_ROLLUPS : List.copyOf(rollups);
            // a copy that keeps a null value ("1h: ~" in YAML), which validation reports as missing
            retention = retention == null ? DEFAULT_RETENTION : Collections.unmodifiableMap(new LinkedHashMap<>(retention));
        }

        public Window(Duration size, Duration grace, Duration idleClose) {
            this(size, grace, idleClose, DEFAULT_ROLLUPS, DEFAULT_RETENTION);
        }
    }

    /**
     * The topics: names, and how the aggregator creates the missing ones. Other names run a second,
     * what-if aggregator beside the real one, e.g. over samples {@code tailprobe replay --republish-to}
     * copied: {@code --set topics.samples=whatif.samples --set topics.histograms=whatif.histograms
     * --set topics.deadLetters=whatif.dead-letter --set streams.applicationId=whatif}.
     *
     * @param partitions of the samples topic when the aggregator creates it (the histogram topics get as
     *     many as it has)
     * @param samples the topic samples are read from ({@code latency.samples})
     * @param histograms the stem of the closed windows' topics, one per resolution
     *     ({@code latency.histograms}: {@code latency.histograms.10s}, …). The query API serves the
     *     {@code latency.histograms.*} topics only
     * @param deadLetters where records the aggregator cannot use go ({@code latency.samples.dead-letter})
     */
    public record TopicsSetup(int partitions, short replicationFactor, String samples, String histograms,
            String deadLetters) {
        public TopicsSetup {
            samples = samples == null ? Topics.SAMPLES : samples;
            histograms = histograms == null ? Topics.HISTOGRAMS : histograms;
            deadLetters = deadLetters == null ? Topics.DEAD_LETTERS : deadLetters;
        }

        /** The default topic names. */
        public TopicsSetup(int partitions, short replicationFactor) {
            this(partitions, replicationFactor, null, null, null);
        }

        /** The topic of the closed windows of one resolution, e.g. {@code latency.histograms.1m}. */
        public String histogramsTopic(int resolutionSeconds) {
            return Topics.histograms(histograms, resolutionSeconds);
        }
    }

    /** Kafka's rule for topic names (kafka.common.internals.Topic). */
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    public static AggregatorConfig defaults() {
        return new AggregatorConfig(
                KafkaSettings.defaults(),
                new Streams("tailprobe-aggregator", Path.of(System.getProperty("java.io.tmpdir"), "tailprobe-aggregator"),
                        "exactly_once_v2", 1, Duration.ofMillis(100)),
                new Window(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(10)),
                new TopicsSetup(6, (short) 1),
                Duration.ofHours(1));
    }

    /** Fails fast with the key and rule named. */
    public AggregatorConfig validated() {
        require(kafka.containsKey(KafkaSettings.BOOTSTRAP_SERVERS), "kafka.bootstrap.servers must be set");
        require(!streams.applicationId().isBlank(), "streams.applicationId must not be empty");
        require(streams.processingGuarantee().equals("exactly_once_v2") || streams.processingGuarantee().equals("at_least_once"),
                "streams.processingGuarantee must be exactly_once_v2 or at_least_once, got " + streams.processingGuarantee());
        require(streams.threads() >= 1, "streams.threads must be >= 1, got " + streams.threads());
        positive("streams.commitInterval", streams.commitInterval());
        positive("window.size", window.size());
        require(window.size().toMillis() % 1000 == 0, "window.size must be whole seconds, got " + Durations.format(window.size()));
        require(!window.grace().isNegative(), "window.grace must be >= 0, got " + Durations.format(window.grace()));
        positive("window.idleClose", window.idleClose());
        for (int i = 0; i < window.rollups().size(); i++) {
            Duration rollup = window.rollups().get(i);
            Duration finer = i == 0 ? window.size() : window.rollups().get(i - 1);
            require(rollup.compareTo(finer) > 0 && rollup.toMillis() % finer.toMillis() == 0,
                    "window.rollups[" + i + "] must be a larger multiple of " + Durations.format(finer) + ", got "
                            + Durations.format(rollup));
        }
        Duration baseRetention = retentionByResolutionSeconds().get(windowSizeSeconds());
        if (!window.rollups().isEmpty()) {
            // Restoring an open rollup reads its base windows back from the base topic.
            Duration longestRollup = Collections.max(window.rollups());
            require(baseRetention.compareTo(longestRollup.plus(window.grace())) >= 0,
                    "window.retention." + Durations.format(window.size())
                            + " must be at least the longest rollup plus window.grace (" + Durations.format(longestRollup)
                            + " + " + Durations.format(window.grace()) + "), got " + Durations.format(baseRetention));
        }
        require(topics.partitions() >= 1, "topics.partitions must be >= 1, got " + topics.partitions());
        require(topics.replicationFactor() >= 1, "topics.replicationFactor must be >= 1, got " + topics.replicationFactor());
        topicName("topics.samples", topics.samples());
        topicName("topics.deadLetters", topics.deadLetters());
        // the longest name a resolution adds is ".999999999s"
        require(topics.histograms() != null && TOPIC_NAME.matcher(topics.histograms()).matches()
                        && topics.histograms().length() <= 249 - 11,
                "topics.histograms must be a topic name stem of at most 238 of a-z, A-Z, 0-9, '.', '_' and '-', got \""
                        + topics.histograms() + "\"");
        require(!topics.samples().equals(topics.deadLetters()),
                "topics.samples and topics.deadLetters must differ, both are \"" + topics.samples() + "\"");
        for (String input : List.of(topics.samples(), topics.deadLetters())) {
            require(!input.startsWith(topics.histograms() + "."), "topics.histograms \"" + topics.histograms()
                    + "\" must not be a stem of the input topic \"" + input + "\" (its windows would share names with it)");
        }
        positive("maxLatency", maxLatency);
        require(http.port() >= 0 && http.port() <= 65_535, "http.port must be in [0, 65535], got " + http.port());
        return this;
    }

    public int windowSizeSeconds() {
        return (int) window.size().toSeconds();
    }

    /** Every resolution in seconds, finest first: the window size, then each rollup. */
    public List<Integer> resolutionsSeconds() {
        List<Integer> seconds = new ArrayList<>();
        seconds.add(windowSizeSeconds());
        window.rollups().forEach(rollup -> seconds.add((int) rollup.toSeconds()));
        return seconds;
    }

    /**
     * The retention of each resolution's windows by resolution in seconds, e.g. {@code {10=7d,
     * 60=90d, 600=365d, 3600=730d}}, from {@code window.retention}.
     *
     * @throws ConfigException when a key is not a duration, a retention is not positive, two keys name
     *     the same resolution ({@code 60s} and {@code 1m}) or a resolution has none
     */
    public SortedMap<Integer, Duration> retentionByResolutionSeconds() {
        List<Duration> resolutions = new ArrayList<>(window.rollups());
        resolutions.addFirst(window.size());
        SortedMap<Integer, Duration> retentionBySeconds = new TreeMap<>();
        Map<Integer, String> keyBySeconds = new HashMap<>();
        for (Map.Entry<String, Duration> entry : window.retention().entrySet()) {
            String key = "window.retention." + entry.getKey();
            Duration resolution;
            try {
                resolution = Durations.parse(entry.getKey());
            } catch (IllegalArgumentException e) {
                throw new ConfigException("window.retention keys must be resolutions such as 10s or 1h, got \""
                        + entry.getKey() + "\"", e);
            }
            if (!resolutions.contains(resolution) || entry.getValue() == null) {
                continue;
            }
            int seconds = (int) resolution.toSeconds();
            String other = keyBySeconds.put(seconds, key);
            require(other == null, other + " and " + key + " both set the retention of the "
                    + Durations.format(resolution) + " windows; keep one");
            positive(key, entry.getValue());
            retentionBySeconds.put(seconds, entry.getValue());
        }
        for (Duration resolution : resolutions) {
            require(retentionBySeconds.containsKey((int) resolution.toSeconds()), "window.retention."
                    + Durations.format(resolution) + " must be set: every resolution (window.size, window.rollups) "
                    + "needs a retention");
        }
        return retentionBySeconds;
    }

    private static void topicName(String key, String name) {
        require(name != null && TOPIC_NAME.matcher(name).matches() && !name.equals(".") && !name.equals(".."),
                key + " must be a Kafka topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_' and '-'), got \"" + name + "\"");
    }

    private static void positive(String key, Duration value) {
        require(value.isPositive(), key + " must be > 0, got " + Durations.format(value));
    }

    private static void require(boolean rule, String message) {
        if (!rule) {
            throw new ConfigException(message);
        }
    }
}
