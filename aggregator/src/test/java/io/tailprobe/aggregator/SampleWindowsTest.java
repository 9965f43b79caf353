package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SampleWindowsTest {
    @Test
    void a_sample_at_14_02_07_250_lands_in_the_10s_window_from_14_02_00_and_the_minute_from_14_02() {
        long at = Instant.parse("2026-11-23T14:02:07.250Z").toEpochMilli();

        SampleWindows tenSeconds = SampleWindows.ofSeconds(10);
        SampleWindows minutes = new SampleWindows(Duration.ofMinutes(1));

        assertThat(tenSeconds.startMillis(at)).isEqualTo(Instant.parse("2026-11-23T14:02:00Z").toEpochMilli());
        assertThat(tenSeconds.endMillis(tenSeconds.startMillis(at))).isEqualTo(Instant.parse("2026-11-23T14:02:10Z").toEpochMilli());
        assertThat(minutes.startMillis(tenSeconds.startMillis(at))).isEqualTo(Instant.parse("2026-11-23T14:02:00Z").toEpochMilli());
    }

    @Test
    void a_window_start_is_its_own_window_and_the_end_belongs_to_the_next() {
        SampleWindows windows = SampleWindows.ofSeconds(10);

        assertThat(windows.startMillis(20_000)).isEqualTo(20_000);
        assertThat(windows.startMillis(29_999)).isEqualTo(20_000);
        assertThat(windows.startMillis(30_000)).isEqualTo(30_000);
        assertThat(windows.startMillis(-1)).as("before the epoch rounds down too").isEqualTo(-10_000);
    }

    @Test
    void a_window_shorter_than_a_millisecond_is_refused() {
        assertThatThrownBy(() -> new SampleWindows(Duration.ofNanos(500))).isInstanceOf(IllegalArgumentException.class);
    }
}
