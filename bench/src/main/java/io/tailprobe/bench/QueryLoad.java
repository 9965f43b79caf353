package io.tailprobe.bench;

import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.QueryService;
import io.tailprobe.schemas.BucketCounts;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import io.tailprobe.standalone.EmbeddedKafka;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The query API under load (issue 5), the server side: an in-process broker whose histogram topics hold
 * {@code DAYS} days of closed windows of {@code SERIES} fleet-wide series, 10 s windows plus the 1 min, 10 min
 * and 1 h rollups the aggregator would have written (each rollup the exact sum of its 10 s windows), and the
 * real query API ({@link QueryService}: Kafka Streams, RocksDB, Interactive Queries, Javalin) over them.
 * {@code bench/query-load.sh} drives it with wrk.
 *
 * <p>The windows are generated straight into the topics rather than aggregated from samples: a week of
 * 100 series probed by 10 hosts every second is 6 billion samples, years of work for the aggregator on
 * this machine, while the query side only ever reads the windows. Each 10 s window holds what 10 hosts
 * probing once a second give: 100 samples, 1% timeouts, service times lognormal (σ 0.3) around a median
 * of 1–20 ms per series that swings ±20% over the day, response time the service time plus a scheduling
 * delay (tens of µs, 2% of samples up to 5 ms). Per-host windows are not generated: a fleet-wide query
 * range-scans the fleet-wide keys only, so they would add disk, not work.
 *
 * <p>With {@code live} as a fifth argument, a {@link LiveWriter} is made ready before {@code READY}: it
 * goes on writing each series' next 10 s windows, and the rollups as they close, when
 * {@code POST /live/start?speed=S} is sent to the hello-world port, at {@code S} simulated seconds per
 * second (1: the real rate, 100 series' windows every 10 s), until {@code POST /live/stop}.
 *
 * <p>Usage: {@code QueryLoad DATA_DIR SERIES DAYS HTTP_PORT [live]}. The broker's data and the query API's state
 * stay in {@code DATA_DIR}, so a second run with the same figures starts in seconds. The rollups loaded are the
 * aggregator's defaults unless {@code -Dtailprobe.bench.rollups=60,3600} (seconds) names others; data loaded
 * before keeps the rollups it has (its topics say which), the live writer's included. Prints
 * {@code READY END_MILLIS=<end of the last window>} once {@code /ready} answers 200, then serves until
 * killed. Beside it, on {@code HTTP_PORT + 1}, a Javalin app with one route, {@code GET /hello} answering
 * {@code {"hello":"world"}} as JSON, in the same JVM: the floor of what any route of the query API can
 * cost on this machine (Jetty, Javalin, Jackson, wrk's own share of the cores).
 */
public final class QueryLoad {
    private static final int PARTITIONS = 6;
    static final int BASE_SECONDS = 10;
    /** The rollups the aggregator writes by default (1 min, 10 min, 1 h), each the exact sum of its 10 s windows. */
    static final int[] DEFAULT_ROLLUP_SECONDS =
            AggregatorConfig.Window.DEFAULT_ROLLUPS.stream().mapToInt(d -> (int) d.toSeconds()).toArray();
    private static final int HOSTS = 10;
    private static final int SAMPLES_PER_HOST_WINDOW = BASE_SECONDS;
    private static final long DAY_MILLIS = 86_400_000L;
    private static final String APPLICATION_ID = "bench-query-api";

    private QueryLoad() {}

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        int series = Integer.parseInt(args[1]);
        int days = Integer.parseInt(args[2]);
        int port = Integer.parseInt(args[3]);
        boolean live = args.length > 4 && args[4].equals("live");
        Path marker = dataDir.resolve("loaded-" + series + "-series-" + days + "-days");
        // the cleaner would spend the run's CPU compacting keys that are all distinct
        EmbeddedKafka kafka = EmbeddedKafka.start(0, dataDir.resolve("kafka"), Map.of("log.cleaner.enable", "false"));
        long endMillis;
        int[] rollupSeconds;
        if (Files.exists(marker)) {
            endMillis = Long.parseLong(Files.readString(marker).strip());
            rollupSeconds = loadedRollupSeconds(kafka.bootstrapServers());
            System.out.printf(Locale.ROOT, "reusing the windows loaded before in %s, ending %s, rollups %s s%n", dataDir,
                    Instant.ofEpochMilli(endMillis), Arrays.toString(rollupSeconds));
        } else {
            // the last window ends at a time of day that is on no hour or minute, as "now" would
            endMillis = (System.currentTimeMillis() / 3_600_000L - 1) * 3_600_000L + 47 * 60_000L + 30_000L;
            String chosen = System.getProperty("tailprobe.bench.rollups", "");
            rollupSeconds = chosen.isBlank() ? DEFAULT_ROLLUP_SECONDS
                    : Arrays.stream(chosen.split(",")).mapToInt(r -> Integer.parseInt(r.strip())).sorted().toArray();
            load(kafka.bootstrapServers(), series, days, endMillis, rollupSeconds);
            Files.writeString(marker, Long.toString(endMillis));
        }
        long startNanos = System.nanoTime();
        QueryService service = QueryService.start(new QueryApiConfig(
                Map.of(KafkaSettings.BOOTSTRAP_SERVERS, kafka.bootstrapServers()), new QueryApiConfig.Http(port),
                new QueryApiConfig.Streams(APPLICATION_ID, dataDir.resolve("query-state").toString(), ""),
                Duration.ofDays(31)));
        LiveWriter writer = live
                ? LiveWriter.prepare(kafka.bootstrapServers(), dataDir, series, days, endMillis, rollupSeconds) : null;
        Javalin floor = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.routes.get("/hello", ctx -> ctx.json(Map.of("hello", "world")));
            if (writer != null) {
                cfg.routes.post("/live/start", ctx -> ctx.result(writer.start(Double.parseDouble(
                        ctx.queryParamAsClass("speed", String.class).getOrDefault("1")))));
                cfg.routes.get("/live/status", ctx -> ctx.result(writer.status()));
                cfg.routes.post("/live/stop", ctx -> ctx.result(writer.stop()));
            }
        }).start(port + 1);
        HttpClient http = HttpClient.newHttpClient();
        URI ready = URI.create("http://localhost:" + port + "/ready");
        while (http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() != 200
                || !processedToTheEnd(kafka.bootstrapServers(), rollupSeconds)) {
            Thread.sleep(1_000); // polling a server in other threads' hands, not synchronizing with them
        }
        System.out.printf(Locale.ROOT, "query API ready on port %d after %.1f s (JDK %s, %d cores)%n", port,
                (System.nanoTime() - startNanos) / 1e9, Runtime.version(), Runtime.getRuntime().availableProcessors());
        System.out.println("READY END_MILLIS=" + endMillis);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (writer != null) {
                writer.stop();
            }
            floor.stop();
            service.close();
            kafka.close();
        }));
        Thread.currentThread().join();
    }

    /**
     * Whether the query application has committed every histogram record as processed. {@code /ready}
     * alone is not enough here: it turns 200 once the consumer has fetched to the end, while millions of
     * fetched records may still wait to be processed.
     */
    private static boolean processedToTheEnd(String bootstrap, int[] rollupSeconds) throws Exception {
        try (Admin admin = Admin.create(Map.<String, Object>of(KafkaSettings.BOOTSTRAP_SERVERS, bootstrap))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(APPLICATION_ID)
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int seconds : resolutionsSeconds(rollupSeconds)) {
                for (int p = 0; p < PARTITIONS; p++) {
                    latest.put(new TopicPartition(Topics.histograms(seconds), p), OffsetSpec.latest());
                }
            }
            for (var end : admin.listOffsets(latest).all().get().entrySet()) {
                OffsetAndMetadata done = committed.get(end.getKey());
                if (end.getValue().offset() > 0 && (done == null || done.offset() < end.getValue().offset())) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The base resolution and the rollups', finest first, e.g. 10, 60, 600 and 3600. */
    static List<Integer> resolutionsSeconds(int[] rollupSeconds) {
        return IntStream.concat(IntStream.of(BASE_SECONDS), IntStream.of(rollupSeconds)).boxed().toList();
    }

    /** The rollups of data loaded before, as its histogram topics say: a folder loaded without 10 min has none. */
    private static int[] loadedRollupSeconds(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.<String, Object>of(KafkaSettings.BOOTSTRAP_SERVERS, bootstrap))) {
            return admin.listTopics().names().get().stream()
                    .map(Topics::histogramsResolutionSeconds).filter(OptionalInt::isPresent).mapToInt(OptionalInt::getAsInt)
                    .filter(seconds -> seconds != BASE_SECONDS).sorted().toArray();
        }
    }

    /** Writes {@code days} days of windows ending at {@code endMillis} of {@code series} series at 10 s and every rollup. */
    private static void load(String bootstrap, int series, int days, long endMillis, int[] rollupSeconds)
            throws IOException {
        try (Admin admin = Admin.create(Map.<String, Object>of(KafkaSettings.BOOTSTRAP_SERVERS, bootstrap))) {
            TopicSpecs.ensure(admin, PARTITIONS, (short) 1);
            Duration kept = Duration.ofDays(3_650); // nothing is deleted while the benchmark runs
            Map<Integer, Duration> retention = new HashMap<>();
            resolutionsSeconds(rollupSeconds).forEach(seconds -> retention.put(seconds, kept));
            TopicSpecs.ensureHistograms(admin, (short) 1, retention);
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 50);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 256L << 20);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        long startMillis = endMillis - days * DAY_MILLIS;
        AtomicLong windows = new AtomicLong();
        long loadStartNanos = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            IntStream.range(0, series).parallel().forEach(i -> {
                SeriesWindows writer = SeriesWindows.of(i, series, producer, rollupSeconds);
                for (long windowStartMillis = startMillis; windowStartMillis < endMillis;
                     windowStartMillis += BASE_SECONDS * 1_000L) {
                    writer.window(windowStartMillis, windowStartMillis + BASE_SECONDS * 1_000L >= endMillis);
                }
                long total = windows.addAndGet(writer.written);
                System.out.printf(Locale.ROOT, "  %s: %,d windows (%,d so far, %.0f s)%n", writer.series, writer.written, total,
                        (System.nanoTime() - loadStartNanos) / 1e9);
            });
        }
        System.out.printf(Locale.ROOT, "loaded %,d windows of %d series over %d days in %.1f s%n", windows.get(), series,
                days, (System.nanoTime() - loadStartNanos) / 1e9);
    }

    /** One series' windows, written as they close: each 10 s window, and each rollup at its end. */
    static final class SeriesWindows {
        final SeriesKey series;
        private final long medianNanos;
        private final SplittableRandom random;
        private final Producer<String, byte[]> producer;
        private final List<Rollup> rollups;
        long written;
        /** False while a {@link LiveWriter} replays what is in the topics already: windows are counted, not sent. */
        boolean sending = true;

        SeriesWindows(SeriesKey series, long medianNanos, SplittableRandom random, Producer<String, byte[]> producer,
                      int[] rollupSeconds) {
            this.rollups = IntStream.of(rollupSeconds).mapToObj(Rollup::new).toList();
            this.series = series;
            this.medianNanos = medianNanos;
            this.random = random;
            this.producer = producer;
        }

        /** The {@code i}-th of {@code series} series, as the load writes it: its name, median and random stream. */
        static SeriesWindows of(int i, int series, Producer<String, byte[]> producer, int[] rollupSeconds) {
            SeriesKey key = new SeriesKey(String.format(Locale.ROOT, "series-%03d", i), "tcp", "tcp");
            return new SeriesWindows(key, 1_000_000L + 19_000_000L * i / Math.max(1, series - 1), new SplittableRandom(i),
                    producer, rollupSeconds);
        }

        /**
         * The {@code i}-th series whose windows from {@code startMillis} up to {@code resumeMillis} are
         * written already, ready to write the next: the random numbers of the windows before the hour the
         * next window closes are drawn ({@link #skip}), those of that hour's windows recorded into the open
         * rollups, and nothing is sent. What it writes from {@code resumeMillis} on is what
         * one {@link SeriesWindows} writing from {@code startMillis} throughout would.
         */
        static SeriesWindows resumed(int i, int series, Producer<String, byte[]> producer, int[] rollupSeconds,
                                     long startMillis, long resumeMillis) {
            // at the start of the longest rollup (1 h), the one before: its rollups are sent by the next window
            long longestMillis = IntStream.of(rollupSeconds).max().orElse(BASE_SECONDS) * 1_000L;
            long recordFromMillis = Math.floorDiv(resumeMillis - 1, longestMillis) * longestMillis;
            SeriesWindows writer = of(i, series, producer, rollupSeconds);
            writer.sending = false;
            for (long w = startMillis; w < resumeMillis; w += BASE_SECONDS * 1_000L) {
                if (w < recordFromMillis) {
                    writer.skip();
                } else {
                    writer.window(w, false);
                }
            }
            writer.sending = true;
            writer.written = 0;
            return writer;
        }

        /**
         * Draws the random numbers {@link #window} would for a window, in the same order, and nothing else:
         * how a {@link LiveWriter} reaches the state the load left each series in without recording days
         * of samples.
         */
        void skip() {
            for (int i = 0; i < HOSTS * SAMPLES_PER_HOST_WINDOW; i++) {
                if (random.nextInt(100) == 0) {
                    continue;
                }
                random.nextGaussian();
                if (random.nextInt(50) == 0) {
                    random.nextLong(5_000_000);
                } else {
                    random.nextLong(50_000);
                }
            }
        }

        void window(long startMillis, boolean last) {
            Rollup window = new Rollup(BASE_SECONDS);
            window.startMillis = startMillis;
            double daily = 1.0 + 0.2 * Math.sin(2 * Math.PI * (startMillis % DAY_MILLIS) / DAY_MILLIS);
            for (int i = 0; i < HOSTS * SAMPLES_PER_HOST_WINDOW; i++) {
                if (random.nextInt(100) == 0) {
                    window.timeouts++;
                    continue;
                }
                long serviceNanos = (long) (medianNanos * daily * Math.exp(random.nextGaussian() * 0.3));
                long delayNanos = random.nextInt(50) == 0 ? random.nextLong(5_000_000) : random.nextLong(50_000);
                window.record(serviceNanos, serviceNanos + delayNanos);
            }
            send(window);
            for (Rollup rollup : rollups) {
                if (rollup.ok + rollup.timeouts > 0 && startMillis - rollup.startMillis >= rollup.seconds * 1_000L) {
                    send(rollup);
                    rollup.clear();
                }
                if (rollup.ok + rollup.timeouts == 0) {
                    rollup.startMillis = Math.floorDiv(startMillis, rollup.seconds * 1_000L) * rollup.seconds * 1_000L;
                }
                rollup.add(window);
                if (last && startMillis + BASE_SECONDS * 1_000L == rollup.startMillis + rollup.seconds * 1_000L) {
                    send(rollup); // the last window completes it: closed like any other
                    rollup.clear();
                }
            }
        }

        private void send(Rollup window) {
            if (!sending) {
                return;
            }
            WindowedHistogram histogram = window.toWindow(series);
            // in the series' partition, as the aggregator writes it: the query API reads a series from there
            producer.send(new ProducerRecord<>(Topics.histograms(window.seconds), Topics.seriesPartition(series,
                    PARTITIONS), HistogramKey.of(histogram).encode(), Topics.histogramSerde().encode(histogram)));
            written++;
        }
    }

    /**
     * Goes on where the load stopped (or the last live run: {@code live-end-millis} in the data folder),
     * as the aggregator would on a live system: every 10 s of simulated time each series' next 10 s
     * window, and each rollup once its last window is written, into the same topics and
     * partitions. Each series continues its own random stream, so the windows are those a longer load
     * would have written and each rollup is the exact sum of its 10 s windows: {@link #prepare} replays
     * every series from the first window, drawing the random numbers of windows before the current hour
     * ({@link SeriesWindows#skip}) and recording those of the current hour into the open rollups without
     * sending them.
     */
    private static final class LiveWriter {
        private final List<SeriesWindows> writers;
        private final KafkaProducer<String, byte[]> producer;
        private final Path endFile;
        private volatile long nextWindowMillis;
        private volatile Thread thread;
        private volatile double speed;
        private volatile long simStartMillis;
        private volatile long wallStartMillis;
        private final AtomicLong written = new AtomicLong();

        private LiveWriter(List<SeriesWindows> writers, KafkaProducer<String, byte[]> producer, Path endFile,
                           long nextWindowMillis) {
            this.writers = writers;
            this.producer = producer;
            this.endFile = endFile;
            this.nextWindowMillis = nextWindowMillis;
        }

        static LiveWriter prepare(String bootstrap, Path dataDir, int series, int days, long endMillis,
                                  int[] rollupSeconds) throws IOException {
            long started = System.nanoTime();
            Path endFile = dataDir.resolve("live-end-millis");
            long resumeMillis = Files.exists(endFile) ? Long.parseLong(Files.readString(endFile).strip()) : endMillis;
            long startMillis = endMillis - days * DAY_MILLIS;
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ProducerConfig.CLIENT_ID_CONFIG, "live-writer");
            props.put(ProducerConfig.ACKS_CONFIG, "1");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
            props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
            KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new ByteArraySerializer());
            List<SeriesWindows> writers = IntStream.range(0, series).parallel()
                    .mapToObj(i -> SeriesWindows.resumed(i, series, producer, rollupSeconds, startMillis, resumeMillis))
                    .toList();
            System.out.printf(Locale.ROOT, "live writer ready to go on from %s (replayed %d series in %.1f s)%n",
                    Instant.ofEpochMilli(resumeMillis), series, (System.nanoTime() - started) / 1e9);
            return new LiveWriter(writers, producer, endFile, resumeMillis);
        }

        /** Starts writing at {@code speed} simulated seconds per second; answers {@code SIM_MILLIS WALL_MILLIS SPEED}. */
        synchronized String start(double speed) {
            stop();
            this.speed = speed;
            this.simStartMillis = nextWindowMillis;
            this.wallStartMillis = System.currentTimeMillis();
            Thread writer = new Thread(this::run, "live-writer");
            writer.setDaemon(true);
            thread = writer;
            writer.start();
            return simStartMillis + " " + wallStartMillis + " " + speed + "\n";
        }

        private void run() {
            try {
                while (thread == Thread.currentThread()) {
                    long window = nextWindowMillis;
                    // a window is written once it has closed in simulated time
                    long dueWall = wallStartMillis + (long) Math.ceil((window + BASE_SECONDS * 1_000L - simStartMillis) / speed);
                    long sleep = dueWall - System.currentTimeMillis();
                    if (sleep > 0) {
                        Thread.sleep(Math.min(sleep, 100)); // stop() waits for the step under way, never interrupts it
                        continue;
                    }
                    for (SeriesWindows writer : writers) {
                        writer.window(window, false);
                    }
                    producer.flush();
                    written.set(writers.stream().mapToLong(w -> w.written).sum());
                    nextWindowMillis = window + BASE_SECONDS * 1_000L;
                    Files.writeString(endFile, Long.toString(nextWindowMillis));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** {@code sim=<simulated now> windows=<written> cpu_ms=<CPU of the writer and its producer's thread>}. */
        String status() {
            long simNow = thread == null ? nextWindowMillis
                    : simStartMillis + (long) ((System.currentTimeMillis() - wallStartMillis) * speed);
            return "sim=" + simNow + " next_window=" + nextWindowMillis + " windows=" + written.get() + " cpu_ms="
                    + cpuMillis() + "\n";
        }

        private static long cpuMillis() {
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long nanos = 0;
            for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null && (info.getThreadName().equals("live-writer")
                        || info.getThreadName().contains("live-writer"))) {
                    nanos += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
                }
            }
            return nanos / 1_000_000L;
        }

        synchronized String stop() {
            Thread writer = thread;
            thread = null;
            if (writer != null) {
                try {
                    writer.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return status();
        }
    }

    /** The counts of one window of any resolution, as the aggregator keeps them. */
    private static final class Rollup {
        final int seconds;
        long startMillis;
        BucketCounts service = new BucketCounts();
        BucketCounts response = new BucketCounts();
        long ok;
        long timeouts;
        long minServiceNanos = Long.MAX_VALUE;
        long maxServiceNanos = Long.MIN_VALUE;
        long minResponseNanos = Long.MAX_VALUE;
        long maxResponseNanos = Long.MIN_VALUE;

        Rollup(int seconds) {
            this.seconds = seconds;
        }

        void record(long serviceNanos, long responseNanos) {
            ok++;
            service.record(serviceNanos);
            response.record(responseNanos);
            minServiceNanos = Math.min(minServiceNanos, serviceNanos);
            maxServiceNanos = Math.max(maxServiceNanos, serviceNanos);
            minResponseNanos = Math.min(minResponseNanos, responseNanos);
            maxResponseNanos = Math.max(maxResponseNanos, responseNanos);
        }

        void add(Rollup window) {
            ok += window.ok;
            timeouts += window.timeouts;
            service.addAll(window.service);
            response.addAll(window.response);
            minServiceNanos = Math.min(minServiceNanos, window.minServiceNanos);
            maxServiceNanos = Math.max(maxServiceNanos, window.maxServiceNanos);
            minResponseNanos = Math.min(minResponseNanos, window.minResponseNanos);
            maxResponseNanos = Math.max(maxResponseNanos, window.maxResponseNanos);
        }

        void clear() {
            service = new BucketCounts();
            response = new BucketCounts();
            ok = 0;
            timeouts = 0;
            minServiceNanos = Long.MAX_VALUE;
            maxServiceNanos = Long.MIN_VALUE;
            minResponseNanos = Long.MAX_VALUE;
            maxResponseNanos = Long.MIN_VALUE;
        }

        WindowedHistogram toWindow(SeriesKey series) {
            boolean any = ok > 0;
            return WindowedHistogram.newBuilder()
                    .setTarget(series.target()).setProbeType(series.probeType()).setProtocol(series.protocol())
                    .setHost(HistogramKey.FLEET).setResolutionSeconds(seconds)
                    .setWindowStartMillis(startMillis).setWindowEndMillis(startMillis + seconds * 1_000L)
                    .setSampleCount(ok + timeouts)
                    .setOutcomeCounts(timeouts > 0 ? Map.of("OK", ok, "TIMEOUT", timeouts) : Map.of("OK", ok))
                    .setMinServiceTimeNanos(any ? minServiceNanos : null).setMaxServiceTimeNanos(any ? maxServiceNanos : null)
                    .setMinResponseTimeNanos(any ? minResponseNanos : null).setMaxResponseTimeNanos(any ? maxResponseNanos : null)
                    .setServiceTimeHistogram(ByteBuffer.wrap(service.encode()))
                    .setResponseTimeHistogram(ByteBuffer.wrap(response.encode()))
                    .setPhaseHistograms(Map.of())
                    .setLabels(Map.of())
                    .build();
        }
    }
}
