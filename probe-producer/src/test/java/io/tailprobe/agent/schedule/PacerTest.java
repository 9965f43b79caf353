package io.tailprobe.agent.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PacerTest {
    private static final long MS = 1_000_000L;

    private final VirtualTicker ticker = new VirtualTicker();
    private final AgentMetrics metrics = new AgentMetrics();
    private final AtomicLong sequence = new AtomicLong();
    private final List<LatencySample> samples = new ArrayList<>();

    /** A probe whose calls take the given virtual milliseconds, in order. */
    private class ScriptedProbe implements Probe {
        private final Deque<Long> millis;

        ScriptedProbe(Long... millis) {
            this.millis = new ArrayDeque<>(List.of(millis));
        }

        @Override
        public String type() {
            return "tcp";
        }

        @Override
        public String protocol() {
            return "tcp";
        }

        @Override
        public String address() {
            return "db:5432";
        }

        @Override
        public ProbeResult probe() {
            ticker.advanceMillis(millis.isEmpty() ? 1 : millis.pop());
            return ProbeResult.ok("10.0.0.7:5432", null);
        }
    }

    private Pacer pacer(String name, Duration interval, Probe probe) {
        PlannedTarget target = new PlannedTarget(name, "tcp", interval, Duration.ofSeconds(2),
                Map.of("region", "local"), probe);
        return new Pacer("host-1", target, ticker, ticker.nanoTime(), Duration.ofSeconds(10), sequence::getAndIncrement, metrics,
                samples::add);
    }

    @Test
    void late_probes_report_the_time_they_waited() throws Exception {
        Pacer pacer = pacer("db", Duration.ofMillis(10), new ScriptedProbe(35L, 1L, 1L, 1L, 1L));

        for (int i = 0; i < 5; i++) {
            pacer.step();
        }

        assertThat(samples)
                .extracting(s -> s.getScheduledStartMicros() - VirtualTicker.ORIGIN_EPOCH_MICROS,
                        s -> s.getActualStartMicros() - VirtualTicker.ORIGIN_EPOCH_MICROS,
                        LatencySample::getServiceTimeNanos, LatencySample::getResponseTimeNanos)
                .containsExactly(
                        tuple(0L, 0L, 35 * MS, 35 * MS),
                        tuple(10_000L, 35_000L, 1 * MS, 26 * MS),
                        tuple(20_000L, 36_000L, 1 * MS, 17 * MS),
                        tuple(30_000L, 37_000L, 1 * MS, 8 * MS),
                        tuple(40_000L, 40_000L, 1 * MS, 1 * MS));
    }

    @Test
    void samples_carry_the_agent_the_target_and_the_probe_result() throws Exception {
        Pacer pacer = pacer("db", Duration.ofMillis(10), new ScriptedProbe(2L));

        pacer.step();

        LatencySample sample = samples.getFirst();
        assertThat(sample.getHost()).isEqualTo("host-1");
        assertThat(sample.getTarget()).isEqualTo("db");
        assertThat(sample.getAddress()).isEqualTo("10.0.0.7:5432");
        assertThat(sample.getProbeType()).isEqualTo("tcp");
        assertThat(sample.getProtocol()).isEqualTo("tcp");
        assertThat(sample.getOutcome()).isEqualTo(Outcome.OK);
        assertThat(sample.getLabels()).containsExactlyEntriesOf(Map.of("region", "local"));
        assertThat(sample.getSequence()).isZero();
        assertThat(metrics.probes("db", "tcp", Outcome.OK)).isEqualTo(1.0);
    }

    @Test
    void sequence_numbers_increase_across_the_targets_of_one_agent() throws Exception {
        Pacer a = pacer("a", Duration.ofMillis(10), new ScriptedProbe());
        Pacer b = pacer("b", Duration.ofMillis(10), new ScriptedProbe());

        a.step();
        b.step();
        a.step();

        assertThat(samples).extracting(LatencySample::getTarget, LatencySample::getSequence)
                .containsExactly(tuple("a", 0L), tuple("b", 1L), tuple("a", 2L));
    }

    @Test
    void a_probe_that_measures_its_own_latency_reports_it_plus_the_wait_for_its_slot() throws Exception {
        Probe measuring = new ScriptedProbe(35L, 20L) {
            private boolean first = true;

            @Override
            public ProbeResult probe() {
                ProbeResult wallTimed = super.probe();
                // the second round measured a 3 ms median RTT inside its 20 ms of wall time
                ProbeResult result = first ? wallTimed : wallTimed.withLatencyNanos(3 * MS).withPackets(5, 4, 1)
                        .withProtocol("udp");
                first = false;
                return result;
            }
        };
        Pacer pacer = pacer("mesh", Duration.ofMillis(10), measuring);

        pacer.step();
        pacer.step();

        LatencySample second = samples.get(1);
        assertThat(second.getServiceTimeNanos()).isEqualTo(3 * MS);
        assertThat(second.getResponseTimeNanos()).as("25 ms late for its slot, then 3 ms").isEqualTo(28 * MS);
        assertThat(second.getProtocol()).isEqualTo("udp");
        assertThat(second.getPacketsSent()).isEqualTo(5);
        assertThat(second.getPacketsReceived()).isEqualTo(4);
        assertThat(second.getPacketsReordered()).isEqualTo(1);
        assertThat(samples.get(0).getProtocol()).isEqualTo("tcp");
    }

    @Test
    void a_probe_that_throws_becomes_an_io_error_sample_and_the_schedule_goes_on() throws Exception {
        Probe broken = new ScriptedProbe() {
            @Override
            public ProbeResult probe() {
                throw new IllegalStateException("bug");
            }
        };
        Pacer pacer = pacer("db", Duration.ofMillis(10), broken);

        pacer.step();
        pacer.step();

        assertThat(samples).extracting(LatencySample::getOutcome).containsExactly(Outcome.IO_ERROR, Outcome.IO_ERROR);
        assertThat(samples.getFirst().getErrorDetail()).contains("bug");
        assertThat(samples.getFirst().getAddress()).isEqualTo("db:5432");
    }

    @Test
    void a_backlog_beyond_the_bound_skips_to_the_latest_due_slot_and_counts_the_skipped_ones() throws Exception {
        // 10 ms schedule, one probe hangs for 12.345 s: slots 1..1234 are due by then; the backlog
        // (12.335 s behind slot 1) exceeds the 10 s bound, so slots 1..1233 are skipped and 1234 runs.
        Pacer pacer = pacer("db", Duration.ofMillis(10), new ScriptedProbe(12_345L, 1L));

        pacer.step();
        pacer.step();

        assertThat(metrics.slotsSkipped("db")).isEqualTo(1233.0);
        LatencySample late = samples.get(1);
        assertThat(late.getScheduledStartMicros() - VirtualTicker.ORIGIN_EPOCH_MICROS).isEqualTo(12_340_000L);
        assertThat(late.getResponseTimeNanos()).isEqualTo(6 * MS);
        assertThat(pacer.nextSlot()).isEqualTo(1235L);
    }

    @Test
    void a_backlog_within_the_bound_gives_every_slot_a_sample() throws Exception {
        Pacer pacer = pacer("db", Duration.ofMillis(10), new ScriptedProbe(2_000L));

        for (int i = 0; i < 201; i++) {
            pacer.step();
        }

        assertThat(metrics.slotsSkipped("db")).isZero();
        assertThat(samples).hasSize(201);
        // Slot 1 waited 1990 ms; each later slot catches up by 9 ms (1 ms service on a 10 ms schedule).
        assertThat(samples.get(1).getResponseTimeNanos()).isEqualTo(1_991 * MS);
        assertThat(samples.get(2).getResponseTimeNanos()).isEqualTo(1_982 * MS);
    }

    @Test
    void a_targets_phase_is_fixed_by_agent_and_target_and_lies_within_its_interval() {
        Duration interval = Duration.ofMillis(100);

        long phase = Pacer.phaseNanos("host-1", "db", interval);

        assertThat(phase).isBetween(0L, interval.toNanos() - 1);
        assertThat(Pacer.phaseNanos("host-1", "db", interval)).as("the same on every start").isEqualTo(phase);
        assertThat(Pacer.phaseNanos("host-2", "db", interval)).as("another agent probing db").isNotEqualTo(phase);
    }

    @Test
    void phases_spread_many_targets_evenly_over_their_interval() {
        Duration interval = Duration.ofMillis(100);
        int targets = 10_000;
        int[] perTenth = new int[10];

        for (int i = 0; i < targets; i++) {
            perTenth[(int) (Pacer.phaseNanos("host-1", "rate-" + i, interval) / (interval.toNanos() / 10))]++;
        }

        // 1,000 expected in each tenth; a uniform draw stays within ±10% (±3 standard deviations)
        assertThat(Arrays.stream(perTenth).boxed()).allSatisfy(count -> assertThat(count).isBetween(900, 1_100));
    }
}
