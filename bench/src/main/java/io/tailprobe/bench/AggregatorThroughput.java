package io.tailprobe.bench;

import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.aggregator.DeadLetterReason;
import io.tailprobe.aggregator.ReaderAlone;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import io.tailprobe.standalone.EmbeddedKafka;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;

/**
 * How fast the aggregator drains a topic of samples, next to Kafka's and Kafka Streams' own
 * limits, in one run on one in-process broker (issue 4):
 * <ol type="a">
 *   <li>a plain KafkaConsumer that drains the topic and decodes nothing;</li>
 *   <li>a bare Kafka Streams app whose processor only touches each record's bytes;</li>
 *   <li>a naive DSL app: decode, {@code groupByKey().windowedBy(10 s).aggregate()} into one
 *       HdrHistogram per series with a histogram serde (less work than ours: no per-host or
 *       response-time or phase histograms, no rollups);</li>
 *   <li>Tailprobe's aggregator ({@link Aggregator}, the production topology);</li>
 *   <li>(b) plus decoding each sample with the same Avro serde: the ceiling of any aggregator that
 *       reads the samples, so (d) ÷ (e) is what aggregating costs beyond decoding;</li>
 *   <li>(b) plus writing the least the aggregator must write, ready-made: one real host 10 s window
 *       for every 10 samples, under the aggregator's producer compression (the floor the output sets);</li>
 *   <li>(e) and (f) together: decoding every sample and writing those windows, with no aggregating;</li>
 *   <li>(b) plus reading each sample with the aggregator's own reader ({@code SampleReader}, faster than
 *       Avro's decoder), the first thing (d) does with a sample: (d)'s floor;</li>
 *   <li>(h) and (f) together: reading every sample as (d) does and writing the host windows, with no
 *       aggregating.</li>
 * </ol>
 * Without a broker, to see the aggregator's own cost apart from Kafka's (which moves these rates 2–3×
 * from run to run on a shared VM): (p) the aggregator's processor ({@code ProcessorAlone}) and (q) Avro's
 * decoding of each sample alone, each fed the same samples, already in memory, on this thread; (p) ÷ (q)
 * in CPU per sample compares the whole processor with the decoding any aggregator must do. And, to size a
 * redesign: (s) the processor with no rollups (base windows only), next to (r) a sketch that makes the same
 * host and fleet-wide base windows' histograms from per-series buffers ({@code SeriesBufferSketch}: no
 * rollups, no records around the histograms). The same sketch inside a Streams app, writing each window's
 * histograms as one record, is (j), the least aggregator of the 10 s windows, and with 1 min windows made
 * the same way (k): no aggregator that makes those windows from these samples can pass them.
 * Every Streams app runs with the same processing guarantee, one stream thread and the same commit
 * interval (the guarantee's default, or {@code -DcommitIntervalMs=…}), with a fresh application id
 * and state directory. Each rate is samples over the time from the first to the last sample
 * processed (start-up and rebalance not counted), read from a counter every 5 ms; next to it, the
 * CPU time per sample of the app's own threads over the same span, which a busy machine disturbs
 * less than the rate.
 *
 * <p>Usage: {@code AggregatorThroughput [SAMPLES [GUARANTEE [ORDER]]]}, defaults 1000000,
 * exactly_once_v2, abcde (any of a–k and p–s; a letter repeated runs again in the same JVM, warmer). The fleet:
 * 100 hosts × 50 targets (20 tcp, 20 http with six phases, 10 dns), each probed every second, 99% OK,
 * so 1,000,000 samples are 200 s of event time.
 */
public final class AggregatorThroughput {
    private static final int HOSTS = 100;
    private static final int TARGETS = 50;
    private static final int PARTITIONS = 6;
    private static final int WINDOW_SECONDS = 10;
    private static final Duration WINDOW = Duration.ofSeconds(WINDOW_SECONDS);
    /** Each host probes each target once a second: a host 10 s window holds 10 samples. */
    private static final int SAMPLES_PER_HOST_WINDOW = 10;
    private static final long START_MILLIS = 1_795_000_000_000L;
    /** Samples per second of each run by its letter (the last pass of each), 0 for a run not made. */
    private static final double[] ratesByRun = new double[26];
    /** CPU µs per sample of each run's own threads (see {@link #measure}), 0 for a run not made. */
    private static final double[] cpuMicrosByRun = new double[26];

    /** -Dtailprobe.bench.profile=true: after each run, where its process CPU and its Kafka clients' time went. */
    private static final boolean PROFILE = Boolean.getBoolean("tailprobe.bench.profile");

    /**
     * -Dtailprobe.bench.dVariants="|producer.compression.type=lz4": extra aggregator Kafka settings of
     * the 1st, 2nd, … (d) run of this invocation (order "ddd"), each under its own application id.
     */
    private static final String[] D_VARIANTS = System.getProperty("tailprobe.bench.dVariants", "").isEmpty()
            ? new String[0] : System.getProperty("tailprobe.bench.dVariants").split("\\|", -1);
    private static int dRuns;
    /** Runs made so far of each letter: a letter repeated ("abcdebde", a warmed-up second pass) runs under a new id. */
    private static final Map<Character, Integer> passes = new HashMap<>();

    private AggregatorThroughput() {}

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String guarantee = args.length > 1 ? args[1] : StreamsConfig.EXACTLY_ONCE_V2;
        String order = args.length > 2 ? args[2] : "abcde";
        Path work = Files.createTempDirectory("tailprobe-bench-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                TopicSpecs.ensure(admin, PARTITIONS, (short) 1);
            }
            long fillStart = System.nanoTime();
            fill(bootstrap, samples);
            System.out.printf(Locale.ROOT, "pre-filled %s with %,d samples (%d partitions) in %.1f s%n",
                    Topics.SAMPLES, samples, PARTITIONS, (System.nanoTime() - fillStart) / 1e9);
            System.out.printf(Locale.ROOT, "guarantee %s, 1 stream thread, JDK %s, %d cores%n", guarantee,
                    Runtime.version(), Runtime.getRuntime().availableProcessors());

            List<String[]> rows = new ArrayList<>();
            for (char run : order.toCharArray()) {
                Path state = Files.createTempDirectory(work, "state-" + run + "-");
                double rate = switch (run) {
                    case 'a' -> plainConsumer(bootstrap, samples);
                    case 'b' -> bareStreams(bootstrap, samples, guarantee, state);
                    case 'c' -> naiveDsl(bootstrap, samples, guarantee, state);
                    case 'd' -> tailprobe(bootstrap, samples, guarantee, state);
                    case 'e' -> decodingStreams(bootstrap, samples, guarantee, state);
                    case 'f' -> writingStreams(bootstrap, samples, guarantee, state, 'f');
                    case 'g' -> writingStreams(bootstrap, samples, guarantee, state, 'g');
                    case 'h' -> readingStreams(bootstrap, samples, guarantee, state);
                    case 'i' -> writingStreams(bootstrap, samples, guarantee, state, 'i');
                    case 'j', 'k' -> sketchStreams(bootstrap, samples, guarantee, state, run);
                    case 'p', 'q', 'r', 's' -> withoutBroker(run, samples);
                    default -> throw new IllegalArgumentException("runs are a to k and p to s; got " + run);
                };
                double cpuMicros = cpuMicrosByRun[run - 'a'];
                String label = run == 'd' && D_VARIANTS.length > 0
                        ? label(run) + " [" + D_VARIANTS[(dRuns - 1) % D_VARIANTS.length].strip() + "]" : label(run);
                if (passes.get(run) > 1) {
                    label += " (pass " + passes.get(run) + ")";
                }
                rows.add(new String[] {String.valueOf(run), label, String.format(Locale.ROOT, "%,.0f", rate),
                        String.format(Locale.ROOT, "%.2f", cpuMicros)});
                System.out.printf(Locale.ROOT, "(%s) %-60s %,12.0f samples/s %8.2f CPU µs/sample%n", run, label, rate,
                        cpuMicros);
                ratesByRun[run - 'a'] = rate;
            }
            System.out.println();
            System.out.println("| run | what | samples/s | CPU µs/sample |");
            System.out.println("|---|---|---:|---:|");
            for (String[] row : rows) {
                System.out.println("| (" + row[0] + ") | " + row[1] + " | " + row[2] + " | " + row[3] + " |");
            }
            printRatio("(d) ÷ (b)", 3, 1);
            printRatio("(d) ÷ (c)", 3, 2);
            printRatio("(d) ÷ (a)", 3, 0);
            printRatio("(b) ÷ (a)", 1, 0);
            printRatio("(d) ÷ (e)", 3, 4);
            printRatio("(e) ÷ (b)", 4, 1);
            printRatio("(f) ÷ (b)", 5, 1);
            printRatio("(g) ÷ (b)", 6, 1);
            printRatio("(d) ÷ (g)", 3, 6);
            printRatio("(h) ÷ (b)", 7, 1);
            printRatio("(i) ÷ (b)", 8, 1);
            printRatio("(d) ÷ (i)", 3, 8);
            printRatio("(j) ÷ (b)", 9, 1);
            printRatio("(d) ÷ (j)", 3, 9);
            printRatio("(k) ÷ (b)", 10, 1);
            printCpuRatio("CPU per sample (p) ÷ (q)", 'p' - 'a', 'q' - 'a');
            printCpuRatio("CPU per sample (d) ÷ (b)", 3, 1);
            printCpuRatio("CPU per sample (e) ÷ (b)", 4, 1);
            printCpuRatio("CPU per sample (h) ÷ (b)", 7, 1);
            printCpuRatio("CPU per sample (i) ÷ (b)", 8, 1);
            printCpuRatio("CPU per sample (j) ÷ (b)", 9, 1);
            printCpuRatio("CPU per sample (k) ÷ (b)", 10, 1);
            printCpuRatio("CPU per sample (c) ÷ (d)", 2, 3);
            if (PROFILE) {
                printTopicSizes(bootstrap);
            }
        }
        System.exit(0);
    }

    /** The application (or group) id of this run of {@code run}: {@code base}, then base-2, base-3, … */
    private static String id(String base, char run) {
        int pass = passes.merge(run, 1, Integer::sum);
        return pass == 1 ? base : base + "-" + pass;
    }

    /** What each run wrote: every topic's records (offsets, transaction markers included) and bytes on disk. */
    private static void printTopicSizes(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var topics = admin.listTopics().names().get();
            var partitions = admin.describeTopics(topics).allTopicNames().get();
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
            partitions.forEach((topic, description) -> description.partitions().forEach(p ->
                    latest.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()),
                            org.apache.kafka.clients.admin.OffsetSpec.latest())));
            var offsets = admin.listOffsets(latest).all().get();
            Map<String, Long> offsetsByTopic = new java.util.TreeMap<>();
            offsets.forEach((tp, info) -> offsetsByTopic.merge(tp.topic(), info.offset(), Long::sum));
            Map<String, Long> bytesByTopic = new HashMap<>();
            admin.describeLogDirs(admin.describeCluster().nodes().get().stream().map(n -> n.id()).toList()).allDescriptions()
                    .get().values().forEach(dirs -> dirs.values().forEach(dir -> dir.replicaInfos().forEach((tp, replica) ->
                            bytesByTopic.merge(tp.topic(), replica.size(), Long::sum))));
            System.out.println("topics: end offsets (records + transaction markers), bytes on disk");
            offsetsByTopic.forEach((topic, end) -> System.out.printf(Locale.ROOT, "  %-70s %,12d %,14d%n", topic, end,
                    bytesByTopic.getOrDefault(topic, 0L)));
        }
    }

    private static void printRatio(String name, int numerator, int denominator) {
        if (ratesByRun[numerator] > 0 && ratesByRun[denominator] > 0) {
            System.out.printf(Locale.ROOT, "%s = %.2f%n", name, ratesByRun[numerator] / ratesByRun[denominator]);
        }
    }

    private static void printCpuRatio(String name, int numerator, int denominator) {
        if (cpuMicrosByRun[numerator] > 0 && cpuMicrosByRun[denominator] > 0) {
            System.out.printf(Locale.ROOT, "%s = %.2f%n", name, cpuMicrosByRun[numerator] / cpuMicrosByRun[denominator]);
        }
    }

    private static String label(char run) {
        return switch (run) {
            case 'a' -> "plain KafkaConsumer, no decoding (Kafka's limit)";
            case 'b' -> "bare Kafka Streams, processor touches the bytes (engine's limit)";
            case 'c' -> "naive DSL windowedBy().aggregate() with a histogram serde";
            case 'e' -> "bare Kafka Streams + Avro decode of each sample (any aggregator's floor)";
            case 'd' -> "Tailprobe aggregator";
            case 'f' -> "(b) + writing the host 10 s windows, ready-made (output's floor)";
            case 'g' -> "(e) + writing the host 10 s windows, ready-made (decode + output floor)";
            case 'h' -> "(b) + the aggregator's own reader on each sample ((d)'s reading floor)";
            case 'i' -> "(h) + writing the host 10 s windows, ready-made ((d)'s read + output floor)";
            case 'j' -> "the sketch (r) in Kafka Streams, writing its windows (least aggregator)";
            case 'k' -> "(j) + 1 min windows made the same way (least aggregator with a rollup)";
            case 'p' -> "the aggregator's processor alone, no Kafka";
            case 'q' -> "Avro decode of each sample alone, no Kafka";
            case 'r' -> "sketch: base windows from per-series buffers, no Kafka";
            case 's' -> "the aggregator's processor, base windows only, no Kafka";
            default -> "?";
        };
    }

    /** Writes the fleet's samples in time order, keyed by series like the agents do. */
    private static void fill(String bootstrap, int samples) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer =
                     new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            forEachSample(samples, (key, value) -> producer.send(new ProducerRecord<>(Topics.SAMPLES, key, value)));
            producer.flush();
        }
    }

    /** The fleet's samples in time order, each as its series key and its encoded value. */
    private static void forEachSample(int samples, BiConsumer<String, byte[]> each) {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < samples; i++) {
            int target = i % TARGETS;
            int host = (i / TARGETS) % HOSTS;
            long second = i / ((long) TARGETS * HOSTS);
            LatencySample sample = sample(random, target, host, START_MILLIS + second * 1000 + host * 7L, i);
            each.accept(SeriesKey.of(sample).encode(), Topics.sampleSerde().encode(sample));
        }
    }

    private static LatencySample sample(SplittableRandom random, int target, int host, long scheduledMillis, long sequence) {
        String type = target < 20 ? "tcp" : target < 40 ? "http" : "dns";
        String protocol = switch (type) {
            case "http" -> target % 2 == 0 ? "h2" : "http/1.1";
            case "dns" -> "udp";
            default -> "tcp";
        };
        double roll = random.nextDouble();
        Outcome outcome = roll < 0.005 ? Outcome.TIMEOUT : roll < 0.01 ? Outcome.REFUSED : Outcome.OK;
        long service = (long) (Math.exp(random.nextGaussian() * 0.5) * (200_000 + target * 40_000L));
        long wait = random.nextDouble() < 0.02 ? random.nextLong(5_000_000) : random.nextLong(50_000);
        PhaseTimings phases = null;
        if (type.equals("http") && outcome == Outcome.OK) {
            long part = service / 6;
            phases = PhaseTimings.newBuilder().setDnsNanos(part / 4).setConnectNanos(part).setTlsNanos(2 * part)
                    .setRequestWriteNanos(part / 8).setFirstByteNanos(2 * part).setTransferNanos(part / 2).build();
        } else if (type.equals("tcp") && outcome == Outcome.OK) {
            phases = PhaseTimings.newBuilder().setDnsNanos(1_000L).setConnectNanos(service - 1_000).build();
        }
        return LatencySample.newBuilder()
                .setHost(String.format(Locale.ROOT, "host-%03d", host))
                .setTarget(String.format(Locale.ROOT, "target-%02d", target))
                .setAddress(String.format(Locale.ROOT, "10.0.%d.%d:443", target, host))
                .setProbeType(type).setProtocol(protocol)
                .setScheduledStartMicros(scheduledMillis * 1000)
                .setActualStartMicros(scheduledMillis * 1000 + wait / 1000)
                .setServiceTimeNanos(service).setResponseTimeNanos(service + wait)
                .setOutcome(outcome).setPhases(phases)
                .setConnectionReused(type.equals("http") ? Boolean.FALSE : null)
                .setStatusCode(type.equals("http") && outcome == Outcome.OK ? 200 : null)
                .setErrorDetail(outcome == Outcome.OK ? null : "connect to 10.0.0.1:443 timed out")
                .setSequence(sequence)
                .setLabels(Map.of("region", "eu-west-1", "az", "eu-west-1" + (char) ('a' + host % 3)))
                .build();
    }

    /** (a) */
    private static double plainConsumer(String bootstrap, int samples) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, id("bench-plain-consumer", 'a'));
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        long count = 0;
        long first = 0;
        long touched = 0;
        long firstCpu = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.SAMPLES));
            while (count < samples) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (!records.isEmpty() && first == 0) {
                    first = System.nanoTime();
                    firstCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
                }
                for (var record : records) {
                    touched += record.value().length;
                    count++;
                }
            }
            long end = System.nanoTime();
            if (touched == 0) {
                throw new IllegalStateException("no bytes");
            }
            cpuMicrosByRun[0] = (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - firstCpu) / 1e3 / count;
            return count / ((end - first) / 1e9);
        }
    }

    /** (b) */
    private static double bareStreams(String bootstrap, int samples, String guarantee, Path state) throws Exception {
        long[] bytes = new long[1];
        return perRecordStreams(bootstrap, samples, guarantee, state, id("bench-bare", 'b'), 1, value -> bytes[0] += value.length);
    }

    /** (e): (b) plus decoding each sample, the least any aggregator that reads the samples must do. */
    private static double decodingStreams(String bootstrap, int samples, String guarantee, Path state) throws Exception {
        long[] nanos = new long[1];
        return perRecordStreams(bootstrap, samples, guarantee, state, id("bench-decode", 'e'), 4,
                value -> nanos[0] += Topics.sampleSerde().decode(value).getServiceTimeNanos());
    }

    /** (h): (b) plus reading each sample with the aggregator's own reader, one per task as the aggregator has. */
    private static double readingStreams(String bootstrap, int samples, String guarantee, Path state) throws Exception {
        long[] nanos = new long[1];
        return perRecordStreams(bootstrap, samples, guarantee, state, id("bench-read", 'h'), 'h' - 'a', () -> {
            ReaderAlone reader = new ReaderAlone();
            return value -> nanos[0] += reader.serviceTimeNanos(value);
        });
    }

    /** A Streams app of one processor that does {@code perRecord} with each record's value, and counts. */
    private static double perRecordStreams(String bootstrap, int samples, String guarantee, Path state,
                                           String applicationId, int run, Consumer<byte[]> perRecord) throws Exception {
        return perRecordStreams(bootstrap, samples, guarantee, state, applicationId, run, () -> perRecord);
    }

    /** As above, with a {@code perRecord} of each processor (task) from {@code perTask}. */
    private static double perRecordStreams(String bootstrap, int samples, String guarantee, Path state, String applicationId,
                                           int run, Supplier<Consumer<byte[]>> perTask) throws Exception {
        AtomicLong count = new AtomicLong();
        Topology topology = new Topology();
        topology.addSource("source", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), Topics.SAMPLES);
        topology.addProcessor("per-record", () -> new Processor<byte[], byte[], Void, Void>() {
            private final Consumer<byte[]> perRecord = perTask.get();

            @Override
            public void process(Record<byte[], byte[]> record) {
                perRecord.accept(record.value());
                count.incrementAndGet();
            }
        }, "source");
        return runStreams(topology, streamsProperties(bootstrap, applicationId, guarantee, state), count::get, samples, run);
    }

    /**
     * (f), (g) and (i): (b), (e) or (h) plus writing what the aggregator must write at the
     * least, with no work to make it: one host 10 s window for every 10 samples (the fleet probes each
     * target once a second), taken in turn from real windows built before the run from the same fleet's
     * samples, under the aggregator's own producer compression. (d) also writes fleet-wide windows and
     * rollups (0.112 records per sample, not 0.1), so (f), (g) and (i) are ceilings no aggregator that writes
     * per-host windows can pass.
     */
    private static double writingStreams(String bootstrap, int samples, String guarantee, Path state, char run)
            throws Exception {
        if (hostWindows == null) {
            hostWindows = hostWindows();
        }
        List<byte[][]> windows = hostWindows;
        String topic = Topics.histograms(WINDOW_SECONDS);
        AtomicLong count = new AtomicLong();
        long[] sink = new long[1];
        Topology topology = new Topology();
        topology.addSource("source", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), Topics.SAMPLES);
        topology.addProcessor("per-record", () -> new Processor<byte[], byte[], byte[], byte[]>() {
            private final ReaderAlone reader = new ReaderAlone();
            private org.apache.kafka.streams.processor.api.ProcessorContext<byte[], byte[]> context;
            private long seen;

            @Override
            public void init(org.apache.kafka.streams.processor.api.ProcessorContext<byte[], byte[]> context) {
                this.context = context;
            }

            @Override
            public void process(Record<byte[], byte[]> record) {
                sink[0] += switch (run) {
                    case 'g' -> Topics.sampleSerde().decode(record.value()).getServiceTimeNanos();
                    case 'i' -> reader.serviceTimeNanos(record.value());
                    default -> record.value().length;
                };
                if (++seen % SAMPLES_PER_HOST_WINDOW == 0) {
                    byte[][] window = windows.get((int) (seen / SAMPLES_PER_HOST_WINDOW % windows.size()));
                    context.forward(new Record<>(window[0], window[1], record.timestamp()));
                }
                count.incrementAndGet();
            }
        }, "source");
        topology.addSink("windows", topic, Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), "per-record");
        Properties props = streamsProperties(bootstrap, id(switch (run) {
            case 'g' -> "bench-decode-write";
            case 'i' -> "bench-read-write";
            default -> "bench-write";
        }, run), guarantee, state);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4"); // as the aggregator's
        return runStreams(topology, props, count::get, samples, run - 'a');
    }

    /**
     * (j): the sketch of (r) in a Streams app, one per task, writing each host and fleet-wide 10 s window
     * it makes as one record of its histograms' encodings. It makes the windows the cheapest way this
     * repository knows and writes less than the aggregator (no rollups, no counts, extremes or labels, no
     * checkpoint), so no aggregator that makes these windows from these samples can pass it. (k): the same,
     * each series' buffer kept for a minute to make the host and fleet-wide 1 min windows from it too, the
     * cheapest of the three rollups the aggregator makes.
     */
    private static double sketchStreams(String bootstrap, int samples, String guarantee, Path state, char run)
            throws Exception {
        AtomicLong count = new AtomicLong();
        List<io.tailprobe.aggregator.SeriesBufferSketch> sketches = new java.util.concurrent.CopyOnWriteArrayList<>();
        Topology topology = new Topology();
        topology.addSource("source", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), Topics.SAMPLES);
        topology.addProcessor("sketch", () -> new Processor<String, byte[], byte[], byte[]>() {
            private io.tailprobe.aggregator.SeriesBufferSketch sketch;

            @Override
            public void init(org.apache.kafka.streams.processor.api.ProcessorContext<byte[], byte[]> context) {
                sketch = new io.tailprobe.aggregator.SeriesBufferSketch(
                        (key, window) -> context.forward(new Record<>(key, window, context.currentStreamTimeMs())),
                        run == 'k');
                sketches.add(sketch);
            }

            @Override
            public void process(Record<String, byte[]> record) {
                sketch.add(record.key(), record.value());
                count.incrementAndGet();
            }
        }, "source");
        topology.addSink("windows", Topics.histograms(WINDOW_SECONDS), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), "sketch");
        Properties props = streamsProperties(bootstrap, id(run == 'k' ? "bench-sketch-minutes" : "bench-sketch", run),
                guarantee, state);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4"); // as the aggregator's
        double rate = runStreams(topology, props, count::get, samples, run - 'a');
        for (io.tailprobe.aggregator.SeriesBufferSketch sketch : sketches) {
            sketch.check();
        }
        return rate;
    }

    /** The fleet's samples as {@link #fill} writes them, in memory: keys and values, for (p), (q), (r) and (s). */
    private static String[] sampleKeys;
    private static byte[][] sampleValues;

    /**
     * Runs without Kafka, fed every sample on this thread: (p) the aggregator's processor
     * ({@link io.tailprobe.aggregator.ProcessorAlone}, the checkpoint written every 15,000 samples, as a
     * 100 ms commit at ~150,000 samples/s would), (q) Avro's decoding of each sample alone, (s) the
     * processor with base windows only, (r) the sketch of those windows from per-series buffers
     * ({@link io.tailprobe.aggregator.SeriesBufferSketch}). Rate and CPU per sample are this thread's.
     */
    private static double withoutBroker(char run, int samples) {
        passes.merge(run, 1, Integer::sum);
        loadSamples(samples);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long startCpu = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long done = switch (run) {
            case 'p' -> io.tailprobe.aggregator.ProcessorAlone.run(samples, i -> sampleKeys[i], i -> sampleValues[i], 15_000);
            case 's' -> io.tailprobe.aggregator.ProcessorAlone.runBaseOnly(samples, i -> sampleKeys[i], i -> sampleValues[i],
                    15_000);
            case 'r' -> io.tailprobe.aggregator.SeriesBufferSketch.run(samples, i -> sampleKeys[i], i -> sampleValues[i]);
            default -> {
                long nanos = 0;
                for (int i = 0; i < samples; i++) {
                    nanos += Topics.sampleSerde().decode(sampleValues[i]).getServiceTimeNanos();
                }
                yield nanos;
            }
        };
        long end = System.nanoTime();
        cpuMicrosByRun[run - 'a'] = (threads.getCurrentThreadCpuTime() - startCpu) / 1e3 / samples;
        if (done == 0) {
            throw new IllegalStateException("(" + run + ") did nothing");
        }
        if (run != 'q') {
            System.out.printf(Locale.ROOT, "  (%s) %,d windows written%n", run, done);
        }
        return samples / ((end - start) / 1e9);
    }

    /** Fills {@link #sampleKeys} and {@link #sampleValues} with the fleet's first {@code samples}, unless they hold them. */
    private static void loadSamples(int samples) {
        if (sampleKeys == null || sampleKeys.length != samples) {
            sampleKeys = new String[samples];
            sampleValues = new byte[samples][];
            int[] next = {0};
            forEachSample(samples, (key, value) -> {
                sampleKeys[next[0]] = key;
                sampleValues[next[0]++] = value;
            });
        }
    }

    /** {@link #hostWindows()}, made once for every (f), (g) and (i) run. */
    private static List<byte[][]> hostWindows;

    /** The fleet's host 10 s windows of its first 10 s, as the aggregator writes them: key and value bytes. */
    private static List<byte[][]> hostWindows() {
        SplittableRandom random = new SplittableRandom(7);
        Map<String, io.tailprobe.aggregator.OpenWindow> byKey = new java.util.LinkedHashMap<>();
        for (int i = 0; i < TARGETS * HOSTS * SAMPLES_PER_HOST_WINDOW; i++) {
            int target = i % TARGETS;
            int host = (i / TARGETS) % HOSTS;
            long second = i / ((long) TARGETS * HOSTS);
            LatencySample sample = sample(random, target, host, START_MILLIS + second * 1000 + host * 7L, i);
            var key = new io.tailprobe.schemas.HistogramKey(SeriesKey.of(sample), sample.getHost(), WINDOW_SECONDS,
                    START_MILLIS - START_MILLIS % 10_000);
            byKey.computeIfAbsent(key.encode(), k -> io.tailprobe.aggregator.OpenWindow.empty(key)).add(sample);
        }
        List<byte[][]> windows = new ArrayList<>();
        byKey.forEach((key, window) -> windows.add(new byte[][] {key.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Topics.histogramSerde().serializer().serialize(Topics.histograms(WINDOW_SECONDS), window.toRecord())}));
        System.out.printf(Locale.ROOT, "  %,d ready-made host windows, %,.0f bytes each on average%n", windows.size(),
                windows.stream().mapToInt(w -> w[0].length + w[1].length).average().orElse(0));
        return windows;
    }

    /** (c) */
    private static double naiveDsl(String bootstrap, int samples, String guarantee, Path state) throws Exception {
        AtomicLong count = new AtomicLong();
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(Topics.SAMPLES, Consumed.with(Serdes.String(), Topics.sampleSerde()))
                .peek((key, sample) -> count.incrementAndGet())
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, Duration.ofSeconds(5)))
                .aggregate(LatencyHistograms::newHistogram, (key, sample, histogram) -> {
                    if (sample.getOutcome() == Outcome.OK) {
                        LatencyHistograms.record(histogram, sample.getServiceTimeNanos());
                    }
                    return histogram;
                }, Materialized.with(Serdes.String(), histogramSerde()));
        Properties props = streamsProperties(bootstrap, id("bench-naive", 'c'), guarantee, state);
        props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, ScheduledStartExtractor.class.getName());
        return runStreams(builder.build(), props, count::get, samples, 2);
    }

    /** (d) */
    private static double tailprobe(String bootstrap, int samples, String guarantee, Path state) throws Exception {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        Map<String, String> kafka = new HashMap<>(defaults.kafka());
        kafka.put(KafkaSettings.BOOTSTRAP_SERVERS, bootstrap);
        String variant = D_VARIANTS.length == 0 ? "" : D_VARIANTS[dRuns % D_VARIANTS.length].strip();
        String applicationId = id("bench-tailprobe", 'd');
        dRuns++;
        for (String setting : variant.isEmpty() ? new String[0] : variant.split(",")) {
            String[] keyValue = setting.split("=", 2);
            kafka.put(keyValue[0].strip(), keyValue[1].strip());
        }
        if (!variant.isEmpty()) {
            System.out.println("(d) " + applicationId + " with kafka settings " + variant);
        }
        AggregatorConfig config = new AggregatorConfig(kafka,
                new AggregatorConfig.Streams(applicationId, state, guarantee, 1, commitInterval(guarantee)),
                defaults.window(), new AggregatorConfig.TopicsSetup(PARTITIONS, (short) 1), defaults.maxLatency(),
                new AggregatorConfig.Http(0));
        try (Aggregator aggregator = Aggregator.start(config)) {
            Thread progress = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        Thread.sleep(5_000);
                        long dead = 0;
                        for (DeadLetterReason reason : DeadLetterReason.values()) {
                            dead += aggregator.metrics().deadLetters(reason);
                        }
                        System.err.printf(Locale.ROOT, "  (d) %,d samples in, %,d windows out, %,d dead letters%n",
                                aggregator.metrics().samplesIn(), aggregator.metrics().windowsEmitted(), dead);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                return measure(() -> aggregator.metrics().samplesIn(), samples, applicationId, 3);
            } finally {
                progress.interrupt();
            }
        }
    }

    private static Duration commitInterval(String guarantee) {
        return Duration.ofMillis(Long.getLong("commitIntervalMs", guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2) ? 100 : 30_000));
    }

    private static Properties streamsProperties(String bootstrap, String applicationId, String guarantee, Path state) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval(guarantee).toMillis());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        return props;
    }

    private static double runStreams(Topology topology, Properties props, LongSupplier count, int samples, int run)
            throws InterruptedException {
        try (KafkaStreams streams = new KafkaStreams(topology, props)) {
            streams.start();
            return measure(count, samples, props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG), run);
        }
    }

    /**
     * Samples per second between the first and the last sample counted, polling every 5 ms; also
     * records the CPU time per sample of the app's own threads (names containing its application
     * id: the stream thread and its producer's I/O thread) over the same span, which a busy machine
     * disturbs far less than the rate.
     */
    private static double measure(LongSupplier count, int samples, String applicationId, int run)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        long first = 0;
        long firstCount = 0;
        long firstCpu = 0;
        RunProfile.Snapshot firstSnapshot = null;
        while (System.nanoTime() < deadline) {
            long now = System.nanoTime();
            long seen = count.getAsLong();
            if (first == 0 && seen > 0) {
                first = now;
                firstCount = seen;
                firstCpu = cpuNanosOfThreads(applicationId);
                firstSnapshot = RunProfile.snapshot(applicationId);
            }
            if (seen >= samples) {
                cpuMicrosByRun[run] = (cpuNanosOfThreads(applicationId) - firstCpu) / 1e3 / (seen - firstCount);
                if (PROFILE) {
                    RunProfile.print((char) ('a' + run), firstSnapshot, RunProfile.snapshot(applicationId), seen - firstCount,
                            now - first);
                }
                return (seen - firstCount) / ((now - first) / 1e9);
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("counted only " + count.getAsLong() + " of " + samples + " samples in 30 min");
    }

    private static long cpuNanosOfThreads(String nameContains) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().contains(nameContains)) {
                total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    private static Serde<Histogram> histogramSerde() {
        Serializer<Histogram> serializer = (topic, histogram) -> LatencyHistograms.encode(histogram);
        Deserializer<Histogram> deserializer = (topic, bytes) -> bytes == null ? null
                : LatencyHistograms.decode(ByteBuffer.wrap(bytes));
        return Serdes.serdeFrom(serializer, deserializer);
    }

    /** Event time = the sample's scheduled start, as in the aggregator. */
    public static final class ScheduledStartExtractor implements org.apache.kafka.streams.processor.TimestampExtractor {
        @Override
        public long extract(org.apache.kafka.clients.consumer.ConsumerRecord<Object, Object> record, long partitionTime) {
            return record.value() instanceof LatencySample sample ? sample.getScheduledStartMicros() / 1000 : partitionTime;
        }
    }
}
