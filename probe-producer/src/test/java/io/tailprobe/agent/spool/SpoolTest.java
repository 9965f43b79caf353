package io.tailprobe.agent.spool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.spool.Spool.DropReason;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Topics;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SpoolTest {
    private static final Instant NOW = Instant.parse("2026-03-02T12:00:00Z");
    private static final long SEGMENT_BYTES = 1_024;
    private static final long MAX_BYTES = 1L << 20;

    @TempDir
    Path dir;

    private final AgentMetrics metrics = new AgentMetrics();
    private final AtomicReference<Instant> now = new AtomicReference<>(NOW);
    private final InstantSource clock = now::get;
    private final List<Spool> opened = new ArrayList<>();

    @AfterEach
    void closeSpools() {
        opened.forEach(Spool::close);
    }

    /** A TCP sample scheduled {@code ageSeconds} before {@link #NOW}. */
    static LatencySample sample(long sequence, long ageSeconds) {
        long scheduledMicros = NOW.toEpochMilli() * 1_000 - ageSeconds * 1_000_000;
        return LatencySample.newBuilder()
                .setHost("web-1").setTarget("db").setAddress("10.0.0.7:5432").setProbeType("tcp").setProtocol("tcp")
                .setScheduledStartMicros(scheduledMicros).setActualStartMicros(scheduledMicros + 40)
                .setServiceTimeNanos(180_000L).setResponseTimeNanos(220_000L).setOutcome(Outcome.OK)
                .setSequence(sequence).setLabels(Map.of("region", "eu-west-1"))
                .build();
    }

    static LatencySample sample(long sequence) {
        return sample(sequence, 0);
    }

    /** The bytes the record of {@code sample(sequence)} takes in a segment (the sequence is a varint). */
    static int recordBytes(long sequence) {
        return Spool.HEADER_BYTES + Topics.sampleSerde().encode(sample(sequence)).length;
    }

    static int recordBytes() {
        return recordBytes(0);
    }

    private Spool open(Path directory, long maxBytes, Duration maxAge) throws IOException {
        Spool spool = Spool.open(directory, maxBytes, maxAge, SEGMENT_BYTES, metrics, clock);
        opened.add(spool);
        return spool;
    }

    private Spool open() throws IOException {
        return open(dir, MAX_BYTES, Duration.ofHours(1));
    }

    private static void append(Spool spool, long fromSequence, long toSequence) {
        for (long s = fromSequence; s < toSequence; s++) {
            assertThat(spool.append(sample(s))).isNotNegative();
        }
    }

    private static List<Long> sequences(List<Spool.Entry> entries) {
        return entries.stream().map(e -> e.sample().getSequence()).toList();
    }

    private static List<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    private List<Path> segments(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(Spool.SEGMENT_SUFFIX)).sorted().toList();
        }
    }

    @Test
    void samples_come_back_in_the_order_they_were_appended_across_segments() throws Exception {
        Spool spool = open();

        append(spool, 0, 100);
        List<Spool.Entry> read = spool.readNext(1_000);

        int segmentsExpected = 1;
        long bytesExpected = 0;
        long segmentFill = 0;
        for (long s = 0; s < 100; s++) {
            if (segmentFill + recordBytes(s) > SEGMENT_BYTES) {
                segmentsExpected++;
                segmentFill = 0;
            }
            segmentFill += recordBytes(s);
            bytesExpected += recordBytes(s);
        }
        assertThat(segments(dir)).as("100 records of about %d bytes in 1 KiB segments", recordBytes())
                .hasSize(segmentsExpected).hasSizeGreaterThan(5);
        assertThat(sequences(read)).isEqualTo(range(0, 100));
        assertThat(read).extracting(Spool.Entry::index).isEqualTo(range(0, 100));
        assertThat(spool.depth()).as("reading does not remove").isEqualTo(100);
        assertThat(spool.bytes()).isEqualTo(bytesExpected);
        assertThat(metrics.samplesSpooled()).isEqualTo(100.0);
        assertThat(spool.readNext(10)).as("everything was read").isEmpty();
    }

    @Test
    void reopening_after_close_recovers_every_unacknowledged_sample_and_no_acknowledged_one() throws Exception {
        Spool spool = open();
        append(spool, 0, 100);
        spool.readNext(100);
        for (long index = 39; index >= 0; index--) {
            spool.acknowledge(index);
        }
        spool.acknowledge(50);
        spool.close();

        Spool reopened = open();

        assertThat(reopened.depth()).as("40..99; 50 was acknowledged out of order, so it comes again").isEqualTo(60);
        assertThat(sequences(reopened.readNext(1_000))).isEqualTo(range(40, 100));
    }

    @Test
    void a_copy_of_the_files_taken_while_open_as_a_kill_leaves_them_recovers_every_unacknowledged_sample()
            throws Exception {
        Spool spool = open();
        append(spool, 0, 100);
        spool.readNext(30);
        for (long index = 0; index < 30; index++) {
            spool.acknowledge(index);
        }
        Path killed = dir.resolveSibling(dir.getFileName() + "-killed");
        Files.createDirectories(killed);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> !f.getFileName().toString().equals(Spool.LOCK_FILE)).toList()) {
                Files.copy(file, killed.resolve(file.getFileName()));
            }
        }

        Spool recovered = open(killed, MAX_BYTES, Duration.ofHours(1));
        List<Long> sequences = sequences(recovered.readNext(1_000));

        // The cursor is saved when a segment is deleted and at most a second later otherwise, so a kill can
        // send some acknowledged samples again, but never loses one.
        assertThat(sequences.getFirst()).isBetween(0L, 30L);
        assertThat(sequences).isEqualTo(range(sequences.getFirst(), 100));
    }

    /** One byte short, only the header left, only 5 bytes of the header left. */
    static IntStream missingBytes() {
        return IntStream.of(1, recordBytes() - Spool.HEADER_BYTES, recordBytes() - 5);
    }

    @ParameterizedTest(name = "last record {0} bytes short")
    @MethodSource("missingBytes")
    void a_torn_last_record_is_cut_off_with_a_log_line_and_every_record_before_it_kept(int missingBytes)
            throws Exception {
        Spool spool = open();
        append(spool, 0, 10);
        spool.close();
        Path last = segments(dir).getLast();
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
            file.setLength(file.length() - missingBytes);
        }

        Spool reopened = open();
        append(reopened, 100, 101);

        assertThat(metrics.spoolDropped(DropReason.CORRUPT)).isEqualTo(1.0);
        assertThat(reopened.depth()).isEqualTo(10);
        assertThat(sequences(reopened.readNext(100))).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 100L);
    }

    @Test
    void a_partial_header_or_a_changed_byte_at_the_end_is_found_by_length_and_crc() throws Exception {
        Spool spool = open();
        append(spool, 0, 5);
        spool.close();
        Path last = segments(dir).getLast();
        Files.write(last, new byte[] {0, 0, 1}, StandardOpenOption.APPEND);

        Spool reopened = open();
        assertThat(sequences(reopened.readNext(100))).isEqualTo(range(0, 5));
        reopened.close();
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
            file.seek(file.length() - 1);
            int lastByte = file.read();
            file.seek(file.length() - 1);
            file.write(lastByte ^ 0x55);
        }

        Spool again = open();

        assertThat(sequences(again.readNext(100))).isEqualTo(range(0, 4));
        assertThat(metrics.spoolDropped(DropReason.CORRUPT)).isEqualTo(2.0);
    }

    @Test
    void when_full_the_oldest_samples_make_room_and_every_drop_is_counted() throws Exception {
        long maxBytes = 10L * recordBytes();
        Spool spool = open(dir, maxBytes, Duration.ofHours(1));

        append(spool, 0, 25);

        assertThat(spool.depth()).isEqualTo(10);
        assertThat(spool.bytes()).isEqualTo(maxBytes);
        assertThat(metrics.spoolDropped(DropReason.FULL)).isEqualTo(15.0);
        assertThat(metrics.samplesSpooled()).isEqualTo(25.0);
        assertThat(sequences(spool.readNext(100))).isEqualTo(range(15, 25));
    }

    @Test
    void samples_older_than_max_age_are_dropped_oldest_first_and_counted() throws Exception {
        Spool spool = open(dir, MAX_BYTES, Duration.ofHours(1));
        for (long s = 0; s < 10; s++) {
            spool.append(sample(s, (10 - s) * 60));
        }
        assertThat(spool.oldestSampleAgeSeconds()).isEqualTo(600.0);

        now.set(NOW.plus(Duration.ofMinutes(54).plusSeconds(30)));
        spool.dropExpired();

        // sample s is (10 - s) min + 54.5 min old: 0..4 are past the hour, 5 is 59.5 min old
        assertThat(metrics.spoolDropped(DropReason.AGE)).isEqualTo(5.0);
        assertThat(spool.depth()).isEqualTo(5);
        assertThat(spool.oldestSampleAgeSeconds()).isEqualTo(3_570.0);
        assertThat(sequences(spool.readNext(100))).isEqualTo(range(5, 10));
    }

    @Test
    void acknowledged_segments_are_deleted_and_the_spool_empties() throws Exception {
        Spool spool = open();
        append(spool, 0, 100);
        int segmentsWritten = segments(dir).size();
        int perSegment = (int) (SEGMENT_BYTES / recordBytes());

        spool.readNext(100);
        for (long index = 0; index < 3L * perSegment; index++) {
            spool.acknowledge(index);
        }
        assertThat(segments(dir)).hasSize(segmentsWritten - 3);
        assertThat(spool.depth()).isEqualTo(100 - 3L * perSegment);

        for (long index = 3L * perSegment; index < 100; index++) {
            spool.acknowledge(index);
        }

        assertThat(segments(dir)).as("only the last, where the next sample goes").hasSize(1);
        assertThat(spool.isEmpty()).isTrue();
        assertThat(spool.depth()).isZero();
        assertThat(spool.bytes()).isZero();
        assertThat(spool.oldestSampleAgeSeconds()).isZero();
        spool.close();
        assertThat(open().isEmpty()).as("after a reopen too").isTrue();
    }

    @Test
    void after_a_failed_send_reading_starts_again_at_the_oldest_unacknowledged_sample() throws Exception {
        Spool spool = open();
        append(spool, 0, 10);
        spool.readNext(10);
        for (long index : new long[] {0, 1, 2, 3, 4, 7}) {
            spool.acknowledge(index);
        }

        spool.rewind();

        assertThat(sequences(spool.readNext(100))).containsExactly(5L, 6L, 8L, 9L);
        assertThat(spool.depth()).isEqualTo(4);
    }

    @Test
    void one_spool_directory_serves_one_agent_at_a_time() throws Exception {
        open();

        assertThatThrownBy(this::open).isInstanceOf(IOException.class)
                .hasMessageContaining("another agent has this spool open");
    }
}
