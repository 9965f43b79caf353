package io.tailprobe.standalone.replay;

import io.tailprobe.aggregator.SampleRules;
import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigOptions;
import io.tailprobe.common.Durations;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.percentile.Latency;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tailprobe replay}: reads raw samples of a time range back from {@code latency.samples} and
 * re-aggregates them into windows of any size (a table, CSV, NDJSON or an HdrHistogram log), or copies
 * them into another topic for a what-if aggregator. Exit codes: 0 done, 1 Kafka or the output failed,
 * 2 bad arguments, 130 stopped by Ctrl-C.
 */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Re-aggregate raw samples of a time range from latency.samples with any window and quantiles, "
                + "export them, or copy them into another topic for a what-if aggregator.",
                "Windows at the aggregator's size match its stored windows exactly."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:done", "1:Kafka unreachable, topic missing, or the output could not be written",
                "2:bad arguments", "130:stopped by Ctrl-C"})
public final class ReplayCommand implements Callable<Integer> {
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_INTERRUPTED = 130;
    private static final Duration DEFAULT_RANGE = Duration.ofHours(1);
    /** How long a shutdown hook waits for the replay to close its clients and print its summary. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(20);

    @Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    @Mixin
    ConfigOptions config;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,…]",
            description = "Kafka brokers (kafka.bootstrap.servers; default localhost:9092)")
    String bootstrapServers;

    @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = Topics.SAMPLES,
            description = "the samples topic to read (default ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--target", description = "only this target")
    String target;

    @Option(names = "--probe", description = "only this probe type (tcp, http, dns, icmp, udp)")
    String probe;

    @Option(names = "--protocol", description = "only this protocol (tcp, http/1.1, h2, …)")
    String protocol;

    @Option(names = "--host", description = "only samples of this agent host")
    String host;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "only samples carrying this label (repeatable)")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--from", paramLabel = "TIME",
            description = "range start, ISO-8601 (2026-12-02T14:00:00Z) or epoch milliseconds (default: an hour before --to)")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "range end, exclusive (default: now)")
    String to;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "10s",
            description = "window size: 10s, 90s, 1m, 1h, 1d, or 250ms (default ${DEFAULT-VALUE})")
    String window;

    @Option(names = "--quantiles", paramLabel = "Q", split = ",", splitSynopsisLabel = ",",
            defaultValue = "0.5,0.9,0.99,0.999", description = "quantiles in [0, 1] (default ${DEFAULT-VALUE})")
    List<Double> quantiles;

    @Option(names = "--per-host", description = "a window per host instead of fleet-wide")
    boolean perHost;

    @Option(names = "--time", paramLabel = "LATENCY", defaultValue = "response",
            description = "response (from the scheduled start) or service (from the actual start), or a phase "
                    + "(default ${DEFAULT-VALUE})")
    String time;

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "table, csv, ndjson or hlog (an HdrHistogram interval log); default from the -o file's "
                    + "extension, else table")
    String format;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "write to FILE instead of stdout")
    Path output;

    @Option(names = "--republish-to", paramLabel = "TOPIC",
            description = "copy the matching records, keys and bytes unchanged, into TOPIC (created if missing) "
                    + "instead of aggregating")
    String republishTo;

    @Option(names = "--max-rate", paramLabel = "RECORDS_PER_SECOND",
            description = "take at most this many matching records a second (default: no limit)")
    Double maxRate;

    @Option(names = "--progress", description = "report progress on stderr even when it is not a terminal")
    boolean progress;

    /** Writes results to {@code System.out}, progress and the summary to {@code System.err}. */
    public ReplayCommand() {
        this(System.out, System.err);
    }

    /** Writes results to {@code out} (unless {@code -o}), progress and the summary to {@code err}. */
    public ReplayCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** The settings of one run, checked. */
    record Plan(ReplayConfig config, String topic, SampleFilter filter, Duration window, List<Double> quantiles,
                boolean perHost, Latency latency, WindowOutput format, Path output, String republishTo,
                double maxRate, boolean progress) {}

    @Override
    public Integer call() {
        Plan plan;
        try {
            plan = plan(Instant.now());
        } catch (ConfigException e) {
            err.println("replay: configuration error: " + e.getMessage());
            return EXIT_USAGE;
        }
        return run(plan, out, err);
    }

    /** Checks every option; a bad one throws picocli's ParameterException naming it (exit code 2). */
    Plan plan(Instant now) {
        ReplayConfig loaded = config.load(ReplayConfig.class, ReplayConfig.defaults());
        if (bootstrapServers != null) {
            Map<String, String> kafka = new LinkedHashMap<>(loaded.kafka());
            kafka.put(KafkaSettings.BOOTSTRAP_SERVERS, bootstrapServers);
            loaded = new ReplayConfig(kafka, loaded.maxSendDelay(), loaded.maxLatency(), loaded.timeout());
        }
        loaded.validated();
        requireName("--topic", topic);
        for (String[] name : new String[][] {{"--target", target}, {"--probe", probe}, {"--protocol", protocol},
                {"--host", host}}) {
            if (name[1] != null) {
                requireClean(name[0], name[1]);
            }
        }
        long toMillis = to == null ? now.toEpochMilli() : time("--to", to);
        long fromMillis = from == null ? toMillis - DEFAULT_RANGE.toMillis() : time("--from", from);
        if (fromMillis >= toMillis) {
            throw bad("--from must be before --to, got " + Instant.ofEpochMilli(fromMillis) + " .. "
                    + Instant.ofEpochMilli(toMillis));
        }
        Duration windowSize;
        try {
            windowSize = Durations.parse(window);
        } catch (IllegalArgumentException e) {
            throw bad("--window: " + e.getMessage());
        }
        if (windowSize.toNanos() % 1_000_000 != 0 || windowSize.toMillis() < 1 || windowSize.toDays() > 366) {
            throw bad("--window must be whole milliseconds from 1ms to 366d, got " + window);
        }
        for (double quantile : quantiles) {
            if (!(quantile >= 0.0 && quantile <= 1.0)) {
                throw bad("--quantiles must each be in [0, 1], got " + quantile);
            }
        }
        Latency latency;
        try {
            latency = Latency.parse(time);
        } catch (IllegalArgumentException e) {
            throw bad("--time must be one of " + String.join(", ", Latency.NAMES) + ", got " + time);
        }
        WindowOutput outputFormat = outputFormat();
        if (republishTo != null) {
            requireName("--republish-to", republishTo);
            if (republishTo.equals(topic)) {
                throw bad("--republish-to must differ from --topic, both are " + topic);
            }
            if (format != null || output != null) {
                throw bad("--republish-to copies records into a topic; it takes no --format or -o");
            }
        }
        if (maxRate != null && !(maxRate > 0)) {
            throw bad("--max-rate must be > 0 records/s, got " + maxRate);
        }
        SampleFilter filter = new SampleFilter(target, probe, protocol, host, labels, fromMillis, toMillis);
        return new Plan(loaded, topic, filter, windowSize, List.copyOf(quantiles), perHost, latency, outputFormat,
                output, republishTo, maxRate == null ? 0 : maxRate, progress);
    }

    private WindowOutput outputFormat() {
        if (format != null) {
            try {
                return WindowOutput.valueOf(format.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw bad("--format must be table, csv, ndjson or hlog, got " + format);
            }
        }
        String name = output == null ? "" : output.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) {
            return WindowOutput.CSV;
        } else if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) {
            return WindowOutput.NDJSON;
        } else if (name.endsWith(".hlog")) {
            return WindowOutput.HLOG;
        }
        return WindowOutput.TABLE;
    }

    /**
     * Runs the plan: stdout gets the table (or the export without {@code -o}), stderr the progress and
     * the summary. A shutdown hook (Ctrl-C, SIGTERM) stops the scan and waits for the clients to close and
     * the summary to be printed; the JVM then exits with the signal's status (130 for Ctrl-C). Run in-process
     * and stopped through the hook, it returns 130.
     */
    static int run(Plan plan, PrintStream out, PrintStream err) {
        Replay replay = new Replay(new SampleRules(plan.config().maxLatency()), plan.filter(), plan.maxRate());
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            replay.stop();
            try {
                finished.await(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "replay-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return new ReplayRun(plan, replay, out, err).call();
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook has run: the JVM exits with the signal's status (130 for SIGINT)
            }
        }
    }

    static KafkaConsumer<byte[], byte[]> consumer(ReplayConfig config) {
        Properties props = KafkaSettings.toProperties(config.kafka());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "tailprobe-replay");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(config.timeout().toMillis()));
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** Opens the output early, so an unwritable path fails before anything is read. */
    static OutputStream open(Path output) throws IOException {
        return Files.newOutputStream(output);
    }

    private long time(String option, String text) {
        String value = text.strip();
        if (value.matches("\\d{1,15}")) {
            return Long.parseLong(value);
        }
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException notInstant) {
            try {
                return OffsetDateTime.parse(value).toInstant().toEpochMilli();
            } catch (DateTimeParseException notOffset) {
                try {
                    return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
                } catch (DateTimeParseException notDate) {
                    throw bad(option + " must be ISO-8601 (2026-12-02T14:00:00Z, 2026-12-02T15:00:00+01:00, "
                            + "2026-12-02) or epoch milliseconds, got \"" + text + "\"");
                }
            }
        }
    }

    private void requireName(String option, String name) {
        if (!name.matches("[a-zA-Z0-9._-]{1,249}")) {
            throw bad(option + " must be a Kafka topic name (a-z, A-Z, 0-9, '.', '_', '-'), got \"" + name + "\"");
        }
    }

    private void requireClean(String option, String value) {
        try {
            SeriesKey.requireClean(option.substring(2), value);
        } catch (IllegalArgumentException e) {
            throw bad(option + ": " + e.getMessage());
        }
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
