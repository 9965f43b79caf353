package io.tailprobe.query.percentile;

import static io.tailprobe.query.SampleFleet.HOSTS;
import static io.tailprobe.query.SampleFleet.windowStartMillis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tailprobe.query.SampleFleet;
import io.tailprobe.query.store.InMemoryHistogramStore;
import io.tailprobe.schemas.LatencyHistograms;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class SloTest {
    private static final long THRESHOLD_NANOS = 10_000_000L;

    private final SampleFleet fleet = new SampleFleet();
    private final PercentileService service = new PercentileService(fleet.fill(new InMemoryHistogramStore()));

    private SloResult slo(String host, int fromWindow, int toWindow, long thresholdNanos, Double objective) {
        return service.slo(new SloQuery(new SeriesRange("demo-tcp", "tcp", null, host, windowStartMillis(fromWindow),
                windowStartMillis(toWindow), 0), Latency.RESPONSE, thresholdNanos, objective));
    }

    @Test
    void the_fraction_at_or_under_the_threshold_and_the_error_budget_follow_from_the_raw_samples() {
        SloResult result = slo(null, 0, SampleFleet.WINDOWS, THRESHOLD_NANOS, 0.99);

        List<Long> raw = fleet.responseNanos(HOSTS, 0, SampleFleet.WINDOWS);
        long errors = HOSTS.size() * SampleFleet.WINDOWS * SampleFleet.TIMEOUTS_PER_HOST_WINDOW;
        Histogram rule = LatencyHistograms.newHistogram();
        long good = raw.stream().filter(nanos -> rule.highestEquivalentValue(nanos) <= THRESHOLD_NANOS).count();
        long exactlyUnder = raw.stream().filter(nanos -> nanos <= THRESHOLD_NANOS).count();
        long within01Percent = raw.stream()
                .filter(nanos -> nanos <= THRESHOLD_NANOS && nanos > THRESHOLD_NANOS * 0.999).count();

        assertThat(result.count()).isEqualTo(raw.size() + errors);
        assertThat(result.errors()).isEqualTo(errors);
        assertThat(result.errorRate()).isEqualTo((double) errors / (raw.size() + errors));
        assertThat(result.thresholdMillis()).isEqualTo(10.0);
        assertThat(result.latencyCount()).isEqualTo(raw.size());
        assertThat(result.atOrUnderThreshold()).isEqualTo(good)
                .isBetween(exactlyUnder - within01Percent, exactlyUnder);
        assertThat(result.fractionAtOrUnderThreshold()).isEqualTo((double) good / raw.size());

        SloResult.Objective objective = result.objective();
        long eligible = raw.size() + errors;
        assertThat(objective.target()).isEqualTo(0.99);
        assertThat(objective.good()).isEqualTo(good);
        assertThat(objective.bad()).isEqualTo(eligible - good);
        assertThat(objective.sli()).isEqualTo((double) good / eligible);
        assertThat(objective.allowedBad()).isCloseTo(0.01 * eligible, within(1e-6));
        assertThat(objective.errorBudgetRemaining()).isCloseTo(1.0 - (eligible - good) / (0.01 * eligible), within(1e-9));
        assertThat(objective.met()).isEqualTo(objective.sli() >= 0.99);
        System.out.printf("SLO 99%% at or under 10 ms, fleet-wide: %d of %d good (sli %.5f), budget left %.3f%n",
                good, eligible, objective.sli(), objective.errorBudgetRemaining());
    }

    @Test
    void a_threshold_above_every_sample_spends_the_budget_on_errors_alone() {
        SloResult result = slo("a", 0, SampleFleet.WINDOWS, 10_000_000_000L, 0.99);

        long ok = SampleFleet.WINDOWS * SampleFleet.SAMPLES_PER_HOST_WINDOW;
        long errors = SampleFleet.WINDOWS * SampleFleet.TIMEOUTS_PER_HOST_WINDOW;
        assertThat(result.fractionAtOrUnderThreshold()).isEqualTo(1.0);
        assertThat(result.objective().bad()).isEqualTo(errors);
        // 20 timeouts of 3 020 samples against an allowance of 30.2
        assertThat(result.objective().errorBudgetRemaining()).isCloseTo(1.0 - errors / (0.01 * (ok + errors)),
                within(1e-9));
        assertThat(result.objective().met()).isTrue();
    }

    @Test
    void without_samples_nothing_is_spent_and_without_an_objective_there_is_no_budget() {
        SloResult empty = slo(null, 20, 30, THRESHOLD_NANOS, 0.999);

        assertThat(empty.count()).isZero();
        assertThat(empty.errorRate()).isNull();
        assertThat(empty.fractionAtOrUnderThreshold()).isNull();
        assertThat(empty.objective().sli()).isNull();
        assertThat(empty.objective().errorBudgetRemaining()).isEqualTo(1.0);
        assertThat(empty.objective().met()).isTrue();

        assertThat(slo(null, 0, 1, THRESHOLD_NANOS, null).objective()).isNull();
    }
}
