package io.tailprobe.agent.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.sink.SinkQueue.OutageRule;
import io.tailprobe.agent.spool.Spool;
import io.tailprobe.agent.spool.Spool.DropReason;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.stream.LongStream;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SinkQueueTest {
    private final AgentMetrics metrics = new AgentMetrics();

    @TempDir
    Path spoolDir;

    /** The producer of a test broker that is down (every send fails) or up (every send is acknowledged). */
    private final MockProducer<String, LatencySample> producer =
            new MockProducer<>(false, null, new StringSerializer(), Topics.sampleSerde().serializer());

    /** Sequences of the samples Kafka acknowledged, in the order it acknowledged them. */
    private final List<Long> delivered = new CopyOnWriteArrayList<>();

    private final SampleSink kafka = new SampleSink() {
        private final KafkaSampleSink inner = new KafkaSampleSink(producer);

        @Override
        public void send(LatencySample sample, SendCallback done) {
            inner.send(sample, failure -> {
                if (failure == null) {
                    delivered.add(sample.getSequence());
                }
                done.onCompletion(failure);
            });
        }

        @Override
        public void close() {
            inner.close();
        }
    };

    private boolean brokerUp() {
        while (producer.completeNext()) {
            // every send so far is acknowledged, in the order sent
        }
        return true;
    }

    private boolean brokerDown() {
        while (producer.errorNext(new TimeoutException("broker unreachable"))) {
            // every send so far fails, as after delivery.timeout.ms
        }
        return true;
    }

    private Spool openSpool() throws IOException {
        return Spool.open(spoolDir, 1L << 20, Duration.ofHours(1), 1_024, metrics, Clock.systemUTC());
    }

    /** A sample scheduled now, well within the spool's age limit. */
    private static LatencySample fresh(long sequence) {
        long nowMicros = System.currentTimeMillis() * 1_000;
        return LatencySample.newBuilder(KafkaSampleSinkTest.sample(sequence))
                .setScheduledStartMicros(nowMicros).setActualStartMicros(nowMicros).build();
    }

    private static void accept(SinkQueue queue, long fromSequence, long toSequence) {
        for (long s = fromSequence; s < toSequence; s++) {
            queue.accept(fresh(s));
        }
    }

    private static List<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    private String scrape() {
        return new String(metrics.scrape(), StandardCharsets.UTF_8);
    }

    @Test
    void a_stalled_sink_never_blocks_the_pacers_and_overflow_is_counted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<LatencySample> received = new CopyOnWriteArrayList<>();
        SampleSink stalled = (sample, done) -> {
            received.add(sample);
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.onCompletion(null);
        };
        SinkQueue queue = new SinkQueue(stalled, metrics, 1);

        queue.accept(KafkaSampleSinkTest.sample(0));
        await().until(() -> received.size() == 1);
        queue.accept(KafkaSampleSinkTest.sample(1));
        queue.accept(KafkaSampleSinkTest.sample(2));

        assertThat(metrics.samplesDropped()).isEqualTo(1.0);
        release.countDown();
        queue.close();
        assertThat(received).extracting(LatencySample::getSequence).containsExactly(0L, 1L);
        assertThat(metrics.samplesSent()).isEqualTo(2);
    }

    @Test
    void failed_sends_are_counted_and_do_not_stop_the_queue() {
        SampleSink failing = (sample, done) -> {
            if (sample.getSequence() == 0) {
                throw new IllegalStateException("broker gone");
            }
            done.onCompletion(sample.getSequence() == 1 ? new RuntimeException("timeout") : null);
        };
        SinkQueue queue = new SinkQueue(failing, metrics, 10);

        for (long i = 0; i < 3; i++) {
            queue.accept(KafkaSampleSinkTest.sample(i));
        }
        queue.close();

        assertThat(metrics.samplesSent()).isEqualTo(1);
        assertThat(metrics.registry().scrape().stream()
                .filter(m -> m.getMetadata().getName().equals("tailprobe_agent_sample_send_failures"))
                .findFirst().orElseThrow().getDataPoints().getFirst()).extracting("value").isEqualTo(2.0);
    }

    @Test
    void a_broker_that_fails_then_recovers_gets_every_sample_once_and_in_order() throws Exception {
        Spool spool = openSpool();
        SinkQueue queue = new SinkQueue(kafka, metrics, 1_000, spool,
                new OutageRule(Duration.ofSeconds(30), 10_000, Duration.ofMillis(50)));

        // Step 1: the broker is up: samples go directly.
        accept(queue, 0, 10);
        await().until(() -> brokerUp() && delivered.size() == 10);
        assertThat(metrics.samplesSpooled()).isZero();

        // Step 2: it goes away: the failed samples and every later one go to the spool, and the spool
        // sender keeps trying.
        accept(queue, 10, 20);
        await().until(() -> brokerDown() && metrics.samplesSpooled() == 10);
        accept(queue, 20, 50);
        await().until(() -> brokerDown() && metrics.samplesSpooled() == 40 && metrics.sendFailures() >= 13);
        assertThat(spool.depth()).isEqualTo(40);

        // Step 3: it is back: the spool is sent in order, then sending is direct again.
        await().until(() -> brokerUp() && delivered.size() == 50 && spool.isEmpty());
        accept(queue, 50, 60);
        await().until(() -> brokerUp() && delivered.size() == 60);
        queue.close();

        assertThat(delivered).isEqualTo(range(0, 60));
        assertThat(metrics.samplesSent()).isEqualTo(60);
        assertThat(metrics.samplesSpooled()).as("10..49; 50..59 went directly").isEqualTo(40.0);
        assertThat(metrics.sendFailures()).as("every send not acknowledged failed")
                .isEqualTo(producer.history().size() - 60.0);
        for (DropReason reason : DropReason.values()) {
            assertThat(metrics.spoolDropped(reason)).as(reason.label()).isZero();
        }
        assertThat(scrape()).contains("tailprobe_agent_samples_spooled_total 40.0", "tailprobe_agent_spool_samples 0.0",
                "tailprobe_agent_spool_bytes 0.0", "tailprobe_agent_spool_oldest_sample_age_seconds 0.0",
                "tailprobe_agent_spool_samples_dropped_total{reason=\"full\"} 0.0",
                "tailprobe_agent_samples_sent_total 60.0");
    }

    @Test
    void a_broker_that_stops_answering_is_spooled_after_the_age_limit_and_a_late_ack_is_not_sent_twice()
            throws Exception {
        Spool spool = openSpool();
        SinkQueue queue = new SinkQueue(kafka, metrics, 1_000, spool,
                new OutageRule(Duration.ofMillis(200), 10_000, Duration.ofMillis(50)));

        accept(queue, 0, 5);
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.samplesSpooled() == 5);
        accept(queue, 5, 10);
        await().until(() -> metrics.samplesSpooled() == 10);
        assertThat(producer.history()).as("nothing is sent from the spool while the first sends may still land")
                .hasSize(5);

        // The producer's retries of 0..4 get through after all: the spool skips them and sends 5..9.
        await().until(() -> brokerUp() && delivered.size() == 10 && spool.isEmpty());
        queue.close();

        assertThat(delivered).isEqualTo(range(0, 10));
        assertThat(producer.history()).extracting(r -> r.value().getSequence()).isEqualTo(range(0, 10));
        assertThat(metrics.samplesSent()).isEqualTo(10);
        assertThat(metrics.sendFailures()).isZero();
    }

    @Test
    void samples_spooled_by_an_earlier_run_are_sent_before_new_ones() throws Exception {
        try (Spool earlier = openSpool()) {
            for (long s = 0; s < 5; s++) {
                earlier.append(fresh(s));
            }
        }
        Spool spool = openSpool();
        SinkQueue queue = new SinkQueue(kafka, metrics, 1_000, spool, OutageRule.DEFAULT);

        accept(queue, 5, 10);
        await().until(() -> brokerUp() && delivered.size() == 10);
        queue.close();

        assertThat(delivered).isEqualTo(range(0, 10));
    }

    @Test
    void what_kafka_has_not_acknowledged_at_close_stays_in_the_spool_for_the_next_start() throws Exception {
        Spool spool = openSpool();
        SinkQueue queue = new SinkQueue(kafka, metrics, 1_000, spool,
                new OutageRule(Duration.ofSeconds(30), 10_000, Duration.ofMillis(50)));
        accept(queue, 0, 3);
        await().until(() -> brokerUp() && delivered.size() == 3);
        accept(queue, 3, 10);
        await().until(() -> brokerDown() && metrics.samplesSpooled() == 7);
        accept(queue, 10, 12);

        queue.close(Duration.ofMillis(500));

        try (Spool next = openSpool()) {
            assertThat(next.readNext(100)).extracting(e -> e.sample().getSequence()).isEqualTo(range(3, 12));
        }
        assertThat(delivered).isEqualTo(range(0, 3));
    }
}
