package io.tailprobe.standalone.replay;

import io.tailprobe.common.Durations;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.TopicSpecs;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** One {@code tailprobe replay} from its checked {@link ReplayCommand.Plan} to its exit code. */
final class ReplayRun {
    private final ReplayCommand.Plan plan;
    private final Replay replay;
    private final PrintStream out;
    private final PrintStream err;
    private final long startNanos = System.nanoTime();

    ReplayRun(ReplayCommand.Plan plan, Replay replay, PrintStream out, PrintStream err) {
        this.plan = plan;
        this.replay = replay;
        this.out = out;
        this.err = err;
    }

    int call() {
        return plan.republishTo() != null ? republish() : reaggregate();
    }

    private int reaggregate() {
        OutputStream file = null;
        if (plan.output() != null) {
            try {
                file = ReplayCommand.open(plan.output());
            } catch (IOException e) {
                err.println("replay: cannot write " + plan.output() + ": " + describe(e));
                return ReplayCommand.EXIT_FAILED;
            }
        }
        try {
            Reaggregation windows = new Reaggregation(plan.window(), plan.perHost());
            Integer failed = scan((record, verdict) -> {
                if (verdict.accepted()) {
                    windows.add(verdict.sample());
                }
            });
            if (failed != null) {
                return failed;
            }
            if (replay.stopped()) {
                String dropped = "";
                if (file != null) {
                    file.close();
                    file = null;
                    Files.deleteIfExists(plan.output());
                    dropped = "; " + plan.output() + " not written";
                }
                err.println(summary("stopped", windows(windows.windowCount()) + " incomplete, nothing printed" + dropped));
                return ReplayCommand.EXIT_INTERRUPTED;
            }
            try {
                plan.format().write(windows.rows(plan.latency(), plan.quantiles()), plan.latency(), plan.quantiles(),
                        file != null ? file : out);
            } catch (IOException | UncheckedIOException e) {
                err.println("replay: cannot write " + (plan.output() != null ? plan.output() : "stdout") + ": "
                        + describe(e instanceof UncheckedIOException u ? u.getCause() : e));
                return ReplayCommand.EXIT_FAILED;
            }
            err.println(summary("done", windows(windows.windowCount()) + " of " + Durations.format(plan.window()) + " "
                    + (plan.perHost() ? "per host" : "fleet-wide")
                    + (plan.output() != null ? " written to " + plan.output() + " (" + plan.format().name()
                    .toLowerCase(Locale.ROOT) + ")" : "")));
            return 0;
        } catch (IOException e) {
            err.println("replay: cannot write " + plan.output() + ": " + describe(e));
            return ReplayCommand.EXIT_FAILED;
        } finally {
            if (file != null) {
                try {
                    file.close();
                } catch (IOException e) {
                    err.println("replay: cannot write " + plan.output() + ": " + describe(e));
                }
            }
        }
    }

    private int republish() {
        AtomicLong copied = new AtomicLong();
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(), new ByteArraySerializer());
        } catch (KafkaException e) {
            err.println("replay: cannot write to Kafka at " + bootstrap() + ": " + describe(e));
            return ReplayCommand.EXIT_FAILED;
        }
        Integer failed;
        try {
            failed = scan((record, verdict) -> {
                if (sendFailure.get() != null) {
                    replay.stop();
                    return;
                }
                producer.send(new ProducerRecord<>(plan.republishTo(), null, record.timestamp(), record.key(),
                        record.value(), record.headers()), (metadata, e) -> {
                            if (e == null) {
                                copied.incrementAndGet();
                            } else {
                                sendFailure.compareAndSet(null, e);
                            }
                        });
            }, this::ensureTopic);
        } finally {
            try {
                producer.close(Duration.ofSeconds(30)); // sends what is buffered and waits for it
            } catch (KafkaException e) {
                sendFailure.compareAndSet(null, e);
            }
        }
        if (failed != null) {
            return failed;
        }
        String copiedText = String.format(Locale.ROOT, "%,d records copied to %s", copied.get(), plan.republishTo());
        if (sendFailure.get() != null) {
            err.println(summary("failed", copiedText) + "; the copy failed: " + describe(sendFailure.get()));
            return ReplayCommand.EXIT_FAILED;
        }
        if (replay.stopped()) {
            err.println(summary("stopped", copiedText + " before the stop"));
            return ReplayCommand.EXIT_INTERRUPTED;
        }
        err.println(summary("done", copiedText));
        return 0;
    }

    /** What needs the source's partition count before the first record is handled. */
    private interface Prepare {
        void partitions(int count);
    }

    private Integer scan(Replay.Sink sink) {
        return scan(sink, count -> { });
    }

    /** Reads the range into {@code sink}; returns an exit code when it failed, else null. */
    private Integer scan(Replay.Sink sink, Prepare prepare) {
        try (Progress progress = Progress.start(err, plan.progress(), replay::recordsRead, replay::coveredFraction)) {
            int count = replay.run(ReplayCommand.consumer(plan.config()), plan.topic(), plan.config().maxSendDelay(),
                    plan.config().timeout(), sink, prepare::partitions);
            if (count == 0) {
                progress.close();
                err.println("replay: topic " + plan.topic() + " does not exist on " + bootstrap());
                return ReplayCommand.EXIT_FAILED;
            }
            return null;
        } catch (KafkaException e) {
            if (replay.stopped()) {
                return null;
            }
            err.println("replay: cannot read " + plan.topic() + " from Kafka at " + bootstrap() + ": " + describe(e));
            return ReplayCommand.EXIT_FAILED;
        }
    }

    /** Creates the republish topic with the source's partition count when it is missing. */
    private void ensureTopic(int partitions) {
        Properties props = KafkaSettings.toProperties(plan.config().kafka());
        try (Admin admin = Admin.create(props)) {
            NewTopic topic = new NewTopic(plan.republishTo(), Optional.of(partitions), Optional.empty())
                    .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG,
                            Long.toString(TopicSpecs.SAMPLES_RETENTION.toMillis())));
            Set<String> existing = admin.listTopics().names().get(plan.config().timeout().toMillis(),
                    TimeUnit.MILLISECONDS);
            if (!existing.contains(plan.republishTo())) {
                try {
                    admin.createTopics(List.of(topic)).all().get();
                    err.println("replay: created topic " + plan.republishTo() + " with " + partitions + " partitions");
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new KafkaException("cannot create topic " + plan.republishTo() + ": "
                                + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while creating topic " + plan.republishTo(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new KafkaException("cannot list topics: " + e.getMessage(), e);
        }
    }

    private Properties producerProperties() {
        Properties props = KafkaSettings.toProperties(plan.config().kafka());
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "tailprobe-replay");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "20");
        props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(plan.config().timeout().toMillis()));
        return props;
    }

    /** {@code replay done: 12,345 records of latency.samples read in 2.1 s (5,879/s), 1,200 matched, …}. */
    private String summary(String state, String result) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT,
                "replay %s: %,d records of %s read in %.1f s (%,.0f/s, %.0f%% of %s .. %s), %,d matched",
                state, replay.recordsRead(), plan.topic(), seconds, replay.recordsRead() / Math.max(seconds, 1e-3),
                replay.coveredFraction() * 100, Instant.ofEpochMilli(plan.filter().fromMillis()),
                Instant.ofEpochMilli(plan.filter().toMillis()), replay.matched()));
        if (!replay.rejected().isEmpty()) {
            text.append(" (").append(replay.rejected().entrySet().stream()
                    .map(e -> String.format(Locale.ROOT, "%,d %s", e.getValue(), e.getKey().header()))
                    .collect(Collectors.joining(", ")))
                    .append(plan.republishTo() == null ? ": dead-lettered by the aggregator, not counted)" : ")");
        }
        if (replay.undecodable() > 0) {
            text.append(String.format(Locale.ROOT, ", %,d undecodable records skipped", replay.undecodable()));
        }
        return text.append("; ").append(result).toString();
    }

    private static String windows(int count) {
        return String.format(Locale.ROOT, "%,d %s", count, count == 1 ? "window" : "windows");
    }

    private String bootstrap() {
        return plan.config().kafka().get(KafkaSettings.BOOTSTRAP_SERVERS);
    }

    private static String describe(Throwable e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        } else if (e instanceof AccessDeniedException) {
            return "permission denied";
        } else if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
