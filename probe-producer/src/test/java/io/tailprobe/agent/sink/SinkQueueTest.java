package io.tailprobe.agent.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.schemas.LatencySample;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class SinkQueueTest {
    private final AgentMetrics metrics = new AgentMetrics();

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
}
