package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Topics;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SampleRulesTest {
    private final SampleRules rules = new SampleRules(Duration.ofHours(1));

    @Test
    void a_valid_sample_under_its_series_key_is_accepted() {
        SampleRules.Verdict verdict = rules.check("db|tcp|tcp", Topics.sampleSerde().encode(sample(2_000_000L, 2_500_000L)));

        assertThat(verdict.accepted()).isTrue();
        assertThat(verdict.sample().getTarget()).isEqualTo("db");
    }

    @Test
    void undecodable_invalid_and_mismatched_records_get_the_dead_letter_reason_the_aggregator_gives_them() {
        assertThat(rules.check("db|tcp|tcp", new byte[] {1, 2, 3}).reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
        assertThat(rules.check("db|tcp|tcp", new byte[] {1, 2, 3}).sample()).isNull();

        SampleRules.Verdict negative = rules.check("db|tcp|tcp", Topics.sampleSerde().encode(sample(-5L, 1_000L)));
        assertThat(negative.reason()).isEqualTo(DeadLetterReason.INVALID);
        assertThat(negative.detail()).isEqualTo("serviceTimeNanos must be in [0, 3600000000000], got -5");
        assertThat(negative.sample()).as("kept so that a replay can filter it").isNotNull();

        SampleRules.Verdict tooLong = rules.check("db|tcp|tcp",
                Topics.sampleSerde().encode(sample(1_000L, Duration.ofHours(2).toNanos())));
        assertThat(tooLong.reason()).isEqualTo(DeadLetterReason.INVALID);
        assertThat(tooLong.detail()).startsWith("responseTimeNanos must be in [0, 3600000000000]");

        SampleRules.Verdict mismatch = rules.check("db|tcp|udp", Topics.sampleSerde().encode(sample(1_000L, 1_000L)));
        assertThat(mismatch.reason()).isEqualTo(DeadLetterReason.KEY_MISMATCH);
        assertThat(mismatch.detail()).isEqualTo("record key \"db|tcp|udp\" is not the sample's series \"db|tcp|tcp\"");
        assertThat(rules.check(null, Topics.sampleSerde().encode(sample(1_000L, 1_000L))).reason())
                .isEqualTo(DeadLetterReason.KEY_MISMATCH);
    }

    @Test
    void a_name_with_the_key_separator_is_invalid() {
        LatencySample sample = sample(1_000L, 1_000L);
        sample.setHost("a|b");

        assertThat(rules.invalid(sample)).isEqualTo("host must be non-empty and free of '|', got \"a|b\"");
    }

    @Test
    void only_ok_samples_are_recorded_and_the_event_time_is_the_scheduled_start_in_milliseconds() {
        LatencySample ok = sample(1_000L, 1_500L);
        LatencySample timeout = sample(1_000L, 1_500L);
        timeout.setOutcome(Outcome.TIMEOUT);

        assertThat(SampleRules.recordsLatency(ok.getOutcome())).isTrue();
        assertThat(SampleRules.recordsLatency(timeout.getOutcome())).isFalse();
        assertThat(SampleRules.eventMillis(ok)).isEqualTo(1_795_442_527_250L);
    }

    private static LatencySample sample(long serviceNanos, long responseNanos) {
        return LatencySample.newBuilder()
                .setHost("host-a").setTarget("db").setAddress("10.0.0.7:5432").setProbeType("tcp").setProtocol("tcp")
                .setScheduledStartMicros(1_795_442_527_250_400L).setActualStartMicros(1_795_442_527_250_900L)
                .setServiceTimeNanos(serviceNanos).setResponseTimeNanos(responseNanos)
                .setOutcome(Outcome.OK).setSequence(1).setLabels(Map.of())
                .build();
    }
}
