package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import io.tailprobe.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SampleReaderTest {
    private final SampleReader reader = new SampleReader();

    @Test
    void reads_every_field_the_aggregator_uses_exactly_as_avro_decodes_it() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 5_000; i++) {
            LatencySample sample = randomSample(random);
            byte[] bytes = Topics.sampleSerde().encode(sample);

            SampleFields read = new SampleFields();
            assertThat(reader.read(bytes, read)).as("sample %s", sample).isTrue();

            assertSameFields(read, new SampleFields().from(Topics.sampleSerde().decode(bytes)));
        }
    }

    @Test
    void the_same_names_and_labels_come_back_as_the_same_instances() {
        LatencySample sample = sample();
        SampleFields first = new SampleFields();
        SampleFields second = new SampleFields();
        assertThat(reader.read(Topics.sampleSerde().encode(sample), first)).isTrue();
        sample.setScheduledStartMicros(sample.getScheduledStartMicros() + 1_000_000L);
        assertThat(reader.read(Topics.sampleSerde().encode(sample), second)).isTrue();

        assertThat(second.host).isSameAs(first.host);
        assertThat(second.target).isSameAs(first.target);
        assertThat(second.labels).isSameAs(first.labels).isEqualTo(Map.of("region", "eu-west", "az", "eu-west-1ä"));
        assertThat(second.scheduledStartMicros).isEqualTo(first.scheduledStartMicros + 1_000_000L);
    }

    @Test
    void leaves_to_avro_every_record_that_is_not_a_well_formed_record_of_this_schema() {
        byte[] good = Topics.sampleSerde().encode(sample());
        SampleFields into = new SampleFields();

        assertThat(reader.read(null, into)).isFalse();
        assertThat(reader.read(new byte[] {1, 2, 3}, into)).isFalse();
        for (int length = 0; length < good.length; length++) {
            assertThat(reader.read(Arrays.copyOf(good, length), into)).as("cut to %d bytes", length).isFalse();
        }
        assertThat(reader.read(Arrays.copyOf(good, good.length + 1), into)).as("a byte left over").isFalse();
        byte[] otherFingerprint = good.clone();
        otherFingerprint[5] ^= 1;
        assertThat(reader.read(otherFingerprint, into)).as("another writer schema").isFalse();
    }

    @Test
    void an_int_written_in_more_than_five_bytes_is_left_to_avro_which_rejects_it() {
        LatencySample sample = sample();
        byte[] ok = Topics.sampleSerde().encode(sample);
        sample.setOutcome(Outcome.TIMEOUT);
        int outcomeAt = Arrays.mismatch(ok, Topics.sampleSerde().encode(sample));
        int phasesAt = outcomeAt + 1; // the union branch of phases: 0 (null), one byte
        assertThat(ok[phasesAt]).isZero();

        byte[] fiveBytes = splice(ok, phasesAt, new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0});
        byte[] sixBytes = splice(ok, phasesAt, new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0});

        SampleFields read = new SampleFields();
        assertThat(reader.read(fiveBytes, read)).isTrue();
        assertSameFields(read, new SampleFields().from(Topics.sampleSerde().decode(fiveBytes)));
        assertThat(reader.read(sixBytes, read)).isFalse();
        assertThatThrownBy(() -> Topics.sampleSerde().decode(sixBytes)).hasMessageContaining("Invalid int encoding");
    }

    private static byte[] splice(byte[] bytes, int at, byte[] replacement) {
        byte[] spliced = new byte[bytes.length - 1 + replacement.length];
        System.arraycopy(bytes, 0, spliced, 0, at);
        System.arraycopy(replacement, 0, spliced, at, replacement.length);
        System.arraycopy(bytes, at + 1, spliced, at + replacement.length, bytes.length - at - 1);
        return spliced;
    }

    @Test
    void accepts_a_damaged_record_only_when_avro_decodes_it_to_the_same_fields() {
        SplittableRandom random = new SplittableRandom(11);
        int acceptedByBoth = 0;
        int leftToAvro = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = Topics.sampleSerde().encode(randomSample(random));
            int at = 10 + random.nextInt(bytes.length - 10); // the body, past the header
            bytes[at] = (byte) random.nextInt(256);

            SampleFields read = new SampleFields();
            if (reader.read(bytes, read)) {
                acceptedByBoth++;
                assertSameFields(read, new SampleFields().from(Topics.sampleSerde().decode(bytes)));
            } else {
                leftToAvro++;
            }
        }
        assertThat(acceptedByBoth).isGreaterThan(1_000);
        assertThat(leftToAvro).isGreaterThan(1_000);
    }

    @Test
    void the_cache_of_names_starts_over_at_its_bound_and_still_finds_what_it_holds() {
        SampleReader.BytesCache<String> cache = new SampleReader.BytesCache<>();
        for (int i = 0; i < 200_000; i++) {
            byte[] name = ("host-" + i).getBytes(StandardCharsets.UTF_8);
            assertThat(cache.get(name, 0, name.length)).isNull();
            cache.put(name, 0, name.length, "host-" + i);
            assertThat(cache.get(name, 0, name.length)).isEqualTo("host-" + i);
            assertThat(cache.size()).isBetween(1, 1 << 16);
        }
        byte[] padded = "xxhost-199999yy".getBytes(StandardCharsets.UTF_8);
        assertThat(cache.get(padded, 2, 11)).isEqualTo("host-199999");
    }

    private static void assertSameFields(SampleFields actual, SampleFields expected) {
        assertThat(actual.host).isEqualTo(expected.host);
        assertThat(actual.target).isEqualTo(expected.target);
        assertThat(actual.probeType).isEqualTo(expected.probeType);
        assertThat(actual.protocol).isEqualTo(expected.protocol);
        assertThat(actual.scheduledStartMicros).isEqualTo(expected.scheduledStartMicros);
        assertThat(actual.serviceTimeNanos).isEqualTo(expected.serviceTimeNanos);
        assertThat(actual.responseTimeNanos).isEqualTo(expected.responseTimeNanos);
        assertThat(actual.outcome).isEqualTo(expected.outcome);
        assertThat(actual.phasesPresent).isEqualTo(expected.phasesPresent);
        for (int phase = 0; phase < actual.phaseNanos.length; phase++) {
            if ((expected.phasesPresent & 1 << phase) != 0) {
                assertThat(actual.phaseNanos[phase]).isEqualTo(expected.phaseNanos[phase]);
            }
        }
        assertThat(actual.labels).isEqualTo(expected.labels);
    }

    private static LatencySample sample() {
        return LatencySample.newBuilder()
                .setHost("host-a").setTarget("db").setAddress("10.0.0.7:5432").setProbeType("tcp").setProtocol("tcp")
                .setScheduledStartMicros(1_795_442_527_250_400L).setActualStartMicros(1_795_442_527_250_900L)
                .setServiceTimeNanos(1_000L).setResponseTimeNanos(1_500L).setOutcome(Outcome.OK).setSequence(42L)
                .setLabels(Map.of("region", "eu-west", "az", "eu-west-1ä")).build();
    }

    private static LatencySample randomSample(SplittableRandom random) {
        Map<String, String> labels = new HashMap<>();
        for (int i = random.nextInt(4); i > 0; i--) {
            labels.put(name(random, "k"), name(random, "v"));
        }
        PhaseTimings phases = null;
        if (random.nextBoolean()) {
            phases = new PhaseTimings(maybe(random), maybe(random), maybe(random), maybe(random), maybe(random),
                    maybe(random));
        }
        return LatencySample.newBuilder()
                .setHost(name(random, "host")).setTarget(name(random, "target")).setAddress(name(random, "10.0.0."))
                .setProbeType(name(random, "http")).setProtocol(name(random, "h2"))
                .setScheduledStartMicros(random.nextLong()).setActualStartMicros(random.nextLong())
                .setServiceTimeNanos(random.nextLong()).setResponseTimeNanos(random.nextLong(-5, 10_000_000_000L))
                .setOutcome(Outcome.values()[random.nextInt(Outcome.values().length)]).setPhases(phases)
                .setConnectionReused(random.nextBoolean() ? null : random.nextBoolean())
                .setStatusCode(random.nextBoolean() ? null : random.nextInt())
                .setSequence(random.nextLong())
                .setErrorDetail(random.nextBoolean() ? null : name(random, "connection reset "))
                .setAnswerCount(random.nextBoolean() ? null : random.nextInt(100))
                .setPacketsSent(random.nextBoolean() ? null : random.nextInt(10))
                .setPacketsReceived(random.nextBoolean() ? null : random.nextInt(10))
                .setPacketsReordered(random.nextBoolean() ? null : random.nextInt(10))
                .setTlsCertNotAfterMillis(random.nextBoolean() ? null : random.nextLong())
                .setLabels(labels).build();
    }

    /** Short names from a few distinct values, some empty, some beyond ASCII. */
    private static String name(SplittableRandom random, String prefix) {
        return switch (random.nextInt(6)) {
            case 0 -> "";
            case 1 -> prefix + "-ünï";
            default -> prefix + random.nextInt(5);
        };
    }

    private static Long maybe(SplittableRandom random) {
        return random.nextBoolean() ? null : random.nextLong();
    }
}
