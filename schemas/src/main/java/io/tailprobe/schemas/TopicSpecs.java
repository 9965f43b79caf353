package io.tailprobe.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates Tailprobe's topics when they are missing: the input topics ({@link #ensure}) and the
 * histogram topics, one per resolution ({@link #ensureHistograms}). A histogram topic gets as many
 * partitions as {@code latency.samples}, since a series lives in the same partition of both, and
 * {@code cleanup.policy=compact,delete}: a window's later record replaces its earlier one, and
 * windows older than the resolution's retention are deleted (e.g. 10 s windows after 7 days, 1 h
 * windows after 730 days).
 */
public final class TopicSpecs {
    /** Raw samples are kept 7 days, so any window of the last week can be recomputed. */
    public static final Duration SAMPLES_RETENTION = Duration.ofDays(7);
    /** The cleanup policy of every histogram topic. */
    public static final String HISTOGRAMS_CLEANUP_POLICY =
            TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE;

    private TopicSpecs() {}

    /** The input topics: {@code latency.samples} and the dead letters. */
    public static List<NewTopic> topics(int partitions, short replicationFactor) {
        return topics(Topics.SAMPLES, Topics.DEAD_LETTERS, partitions, replicationFactor);
    }

    /** The input topics under other names (an aggregator's {@code topics.samples} and {@code topics.deadLetters}). */
    public static List<NewTopic> topics(String samplesTopic, String deadLettersTopic, int partitions,
                                        short replicationFactor) {
        return List.of(samples(samplesTopic, partitions, replicationFactor),
                new NewTopic(deadLettersTopic, 1, replicationFactor));
    }

    /** A samples topic: {@code latency.samples}, or a copy of it ({@code tailprobe replay --republish-to}). */
    public static NewTopic samples(String name, int partitions, short replicationFactor) {
        return new NewTopic(name, partitions, replicationFactor)
                .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(SAMPLES_RETENTION.toMillis())));
    }

    /** The histogram topic of one resolution. */
    public static NewTopic histograms(int resolutionSeconds, int partitions, short replicationFactor, Duration retention) {
        return histograms(Topics.HISTOGRAMS, resolutionSeconds, partitions, replicationFactor, retention);
    }

    /** The histogram topic of one resolution under another stem ({@link Topics#histograms(String, int)}). */
    public static NewTopic histograms(String prefix, int resolutionSeconds, int partitions, short replicationFactor,
                                      Duration retention) {
        return new NewTopic(Topics.histograms(prefix, resolutionSeconds), partitions, replicationFactor)
                .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, HISTOGRAMS_CLEANUP_POLICY,
                        TopicConfig.RETENTION_MS_CONFIG, String.valueOf(retention.toMillis())));
    }

    /** Creates whichever of the input topics do not exist yet; existing topics are left as they are. */
    public static void ensure(Admin admin, int partitions, short replicationFactor) {
        ensure(admin, Topics.SAMPLES, Topics.DEAD_LETTERS, partitions, replicationFactor);
    }

    /** As {@link #ensure(Admin, int, short)} for input topics of other names. */
    public static void ensure(Admin admin, String samplesTopic, String deadLettersTopic, int partitions,
                              short replicationFactor) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            create(admin, topics(samplesTopic, deadLettersTopic, partitions, replicationFactor).stream()
                    .filter(topic -> !existing.contains(topic.name())).toList());
        } catch (ExecutionException e) {
            throw failed("cannot create Tailprobe topics", e);
        } catch (InterruptedException e) {
            throw interrupted(e);
        }
    }

    /**
     * Creates the missing histogram topics of the given resolutions, with as many partitions as
     * {@code latency.samples} (which must exist), and sets {@code retention.ms} and
     * {@code cleanup.policy} of existing ones where they differ, so that a changed retention takes
     * effect when the aggregator restarts. Returns what it did, one line per topic, created ones
     * first, finer resolutions first, e.g.
     * {@code latency.histograms.1m: retention.ms 86400000 -> 7776000000} (1 day to 90 days).
     */
    public static List<String> ensureHistograms(Admin admin, short replicationFactor,
                                                Map<Integer, Duration> retentionByResolutionSeconds) {
        return ensureHistograms(admin, Topics.SAMPLES, Topics.HISTOGRAMS, replicationFactor, retentionByResolutionSeconds);
    }

    /**
     * As {@link #ensureHistograms(Admin, short, Map)} for histogram topics under {@code histogramsPrefix},
     * taking their partition count from {@code samplesTopic}.
     */
    public static List<String> ensureHistograms(Admin admin, String samplesTopic, String histogramsPrefix,
                                                short replicationFactor,
                                                Map<Integer, Duration> retentionByResolutionSeconds) {
        Map<Integer, Duration> finestFirst = new TreeMap<>(retentionByResolutionSeconds);
        Map<String, Duration> retentionByTopic = new LinkedHashMap<>();
        finestFirst.forEach((seconds, retention) ->
                retentionByTopic.put(Topics.histograms(histogramsPrefix, seconds), retention));
        try {
            Set<String> existing = listedWith(admin, samplesTopic);
            if (!existing.contains(samplesTopic)) {
                throw new IllegalStateException(samplesTopic + " does not exist; the histogram topics take its "
                        + "partition count");
            }
            int partitions = admin.describeTopics(List.of(samplesTopic)).allTopicNames().get()
                    .get(samplesTopic).partitions().size();
            List<String> changes = new ArrayList<>();
            List<NewTopic> missing = new ArrayList<>();
            for (Map.Entry<Integer, Duration> resolution : finestFirst.entrySet()) {
                NewTopic topic = histograms(histogramsPrefix, resolution.getKey(), partitions, replicationFactor,
                        resolution.getValue());
                if (!existing.contains(topic.name())) {
                    missing.add(topic);
                }
            }
            for (String created : create(admin, missing)) {
                changes.add(created + ": created with " + partitions + " partitions, " + TopicConfig.RETENTION_MS_CONFIG
                        + " " + retentionByTopic.get(created).toMillis() + ", " + TopicConfig.CLEANUP_POLICY_CONFIG + " "
                        + HISTOGRAMS_CLEANUP_POLICY);
            }
            List<String> present = retentionByTopic.keySet().stream().filter(existing::contains).toList();
            if (!present.isEmpty()) {
                changes.addAll(alignConfigs(admin, present, retentionByTopic));
            }
            return changes;
        } catch (ExecutionException e) {
            throw failed("cannot create or update the histogram topics", e);
        } catch (InterruptedException e) {
            throw interrupted(e);
        }
    }

    private static List<String> alignConfigs(Admin admin, List<String> topics, Map<String, Duration> retentionByTopic)
            throws ExecutionException, InterruptedException {
        List<ConfigResource> resources = topics.stream()
                .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList();
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        Map<ConfigResource, Collection<AlterConfigOp>> alterations = new HashMap<>();
        List<String> changes = new ArrayList<>();
        for (ConfigResource resource : resources) {
            Config config = configs.get(resource);
            List<AlterConfigOp> ops = new ArrayList<>();
            List<String> described = new ArrayList<>();
            String retentionMillis = String.valueOf(retentionByTopic.get(resource.name()).toMillis());
            String currentRetention = value(config, TopicConfig.RETENTION_MS_CONFIG);
            if (!retentionMillis.equals(currentRetention)) {
                ops.add(new AlterConfigOp(new ConfigEntry(TopicConfig.RETENTION_MS_CONFIG, retentionMillis),
                        AlterConfigOp.OpType.SET));
                described.add(TopicConfig.RETENTION_MS_CONFIG + " " + currentRetention + " -> " + retentionMillis);
            }
            String currentPolicy = value(config, TopicConfig.CLEANUP_POLICY_CONFIG);
            if (!policies(currentPolicy).equals(policies(HISTOGRAMS_CLEANUP_POLICY))) {
                ops.add(new AlterConfigOp(new ConfigEntry(TopicConfig.CLEANUP_POLICY_CONFIG, HISTOGRAMS_CLEANUP_POLICY),
                        AlterConfigOp.OpType.SET));
                described.add(TopicConfig.CLEANUP_POLICY_CONFIG + " " + currentPolicy + " -> " + HISTOGRAMS_CLEANUP_POLICY);
            }
            if (!ops.isEmpty()) {
                alterations.put(resource, ops);
                changes.add(resource.name() + ": " + String.join(", ", described));
            }
        }
        if (!alterations.isEmpty()) {
            admin.incrementalAlterConfigs(alterations).all().get();
        }
        return changes;
    }

    /**
     * Creates the topics; returns the names of those this call created, in the given order (another
     * client may have created one first).
     */
    /** How long a topic just created may take to be listed by the broker asked (its metadata lags the controller's). */
    static final Duration LISTING_WAIT = Duration.ofSeconds(10);

    /**
     * The topics the broker lists, once it lists {@code topic} or {@link #LISTING_WAIT} has passed: a topic
     * {@link #ensure} created a moment ago is the controller's at once but a broker's only a little later
     * (CI once saw {@code latency.samples} missing from the listing right after its creation).
     */
    private static Set<String> listedWith(Admin admin, String topic) throws ExecutionException, InterruptedException {
        long deadline = System.nanoTime() + LISTING_WAIT.toNanos();
        Set<String> listed = admin.listTopics().names().get();
        while (!listed.contains(topic) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            listed = admin.listTopics().names().get();
        }
        return listed;
    }

    private static List<String> create(Admin admin, List<NewTopic> topics) throws ExecutionException, InterruptedException {
        List<String> created = new ArrayList<>();
        if (topics.isEmpty()) {
            return created;
        }
        Map<String, KafkaFuture<Void>> results = admin.createTopics(topics).values();
        for (NewTopic topic : topics) {
            try {
                results.get(topic.name()).get();
                created.add(topic.name());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        return created;
    }

    private static String value(Config config, String name) {
        ConfigEntry entry = config.get(name);
        return entry == null ? null : entry.value();
    }

    private static Set<String> policies(String cleanupPolicy) {
        Set<String> policies = new HashSet<>();
        if (cleanupPolicy != null) {
            for (String policy : cleanupPolicy.split(",")) {
                policies.add(policy.strip());
            }
        }
        return policies;
    }

    private static IllegalStateException failed(String what, ExecutionException e) {
        return new IllegalStateException(what + ": " + e.getCause().getMessage(), e.getCause());
    }

    private static IllegalStateException interrupted(InterruptedException e) {
        Thread.currentThread().interrupt();
        return new IllegalStateException("interrupted while creating topics", e);
    }
}
