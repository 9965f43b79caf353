package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** Thousands of TCP probes in flight at once, on virtual threads: no platform thread per target. */
class ProbesAtScaleTest {
    static final int TARGETS = 2_000;

    @Test
    void two_thousand_slow_tcp_probes_are_in_flight_together_on_a_handful_of_platform_threads() throws Exception {
        LongAdder ok = new LongAdder();
        AtomicInteger failed = new AtomicInteger();
        CountDownLatch replies = new CountDownLatch(1);
        // Each target's first probe starts at its phase within the 1 s interval and waits for the reply.
        try (TestTcpServer server = TestTcpServer.start(socket -> {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            if (in.readLine() != null) {
                replies.await();
                socket.getOutputStream().write("pong\n".getBytes(StandardCharsets.UTF_8));
            }
        })) {
            List<Target> targets = new ArrayList<>();
            for (int i = 0; i < TARGETS; i++) {
                targets.add(new Target("t" + i, "tcp", server.address(), Duration.ofSeconds(1), Duration.ofSeconds(20),
                        "ping\n", "^pong", Map.of()));
            }
            int platformThreadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            try (ProbeAgent agent = ProbeAgent.start(AgentConfig.defaultConfig().withHttpPort(0).withTargets(targets),
                    (LatencySample s, io.tailprobe.agent.sink.SampleSink.SendCallback done) -> {
                        if (s.getOutcome() == Outcome.OK) {
                            ok.increment();
                        } else {
                            failed.incrementAndGet();
                        }
                        done.onCompletion(null);
                    })) {
                await().atMost(Duration.ofSeconds(20)).until(() -> agent.metrics().probesInFlight() >= TARGETS * 0.95);
                int platformThreads = ManagementFactory.getThreadMXBean().getThreadCount();

                assertThat(platformThreads - platformThreadsBefore)
                        .as("platform threads added while %d probes wait on their replies", TARGETS).isLessThan(100);

                replies.countDown();
                await().atMost(Duration.ofSeconds(30)).until(() -> ok.sum() + failed.get() >= TARGETS);
                assertThat(failed.get()).isZero();
                assertThat(ok.sum()).isGreaterThanOrEqualTo(TARGETS);
            }
        }
    }
}
