package io.tailprobe.agent.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersistentSequenceTest {
    @TempDir
    Path dir;

    @Test
    void a_restarted_agent_never_hands_out_a_number_an_earlier_run_used() throws Exception {
        Path file = dir.resolve("sequence");
        PersistentSequence first = PersistentSequence.open(file);
        long[] firstRun = new long[3];
        for (int i = 0; i < firstRun.length; i++) {
            firstRun[i] = first.getAsLong();
        }

        PersistentSequence second = PersistentSequence.open(file);

        assertThat(firstRun).containsExactly(0, 1, 2);
        assertThat(second.getAsLong()).as("the first run reserved 0..9,999 before its first sample").isEqualTo(10_000);
        assertThat(Files.readString(file).strip()).isEqualTo("20000");
    }

    @Test
    void a_run_longer_than_a_block_reserves_the_next_before_using_it() throws Exception {
        Path file = dir.resolve("sequence");
        PersistentSequence sequence = PersistentSequence.open(file);
        for (long i = 0; i < PersistentSequence.BLOCK_SIZE; i++) {
            sequence.getAsLong();
        }
        assertThat(Files.readString(file).strip()).isEqualTo("10000");

        assertThat(sequence.getAsLong()).isEqualTo(10_000);
        assertThat(Files.readString(file).strip()).isEqualTo("20000");
    }

    @Test
    void a_file_without_a_number_stops_the_start_naming_it() throws Exception {
        Path file = Files.writeString(dir.resolve("sequence"), "garbage\n");

        assertThatThrownBy(() -> PersistentSequence.open(file)).isInstanceOf(IOException.class)
                .hasMessage(file + " must hold the next sample sequence number, got \"garbage\"");
    }
}
