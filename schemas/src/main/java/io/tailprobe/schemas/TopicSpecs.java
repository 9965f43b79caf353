package io.tailprobe.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates Tailprobe's topics when they are missing. {@code latency.samples} and
 * {@code latency.histograms} get the same partition count, since a series lives in the same
 * partition of both.
 */
public final class TopicSpecs {
    private TopicSpecs() {}

    public static List<NewTopic> topics(int partitions, short replicationFactor) {
        return List.of(
                new NewTopic(Topics.SAMPLES, partitions, replicationFactor)
                        .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(7L * 24 * 3600 * 1000))),
                new NewTopic(Topics.HISTOGRAMS, partitions, replicationFactor)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new NewTopic(Topics.DEAD_LETTERS, 1, replicationFactor));
    }

    /** Creates whichever of the topics do not exist yet; existing topics are left as they are. */
    public static void ensure(Admin admin, int partitions, short replicationFactor) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (NewTopic topic : topics(partitions, replicationFactor)) {
                if (!existing.contains(topic.name())) {
                    missing.add(topic);
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get();
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create Tailprobe topics: " + e.getCause().getMessage(), e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }
}
