package io.tailprobe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TopicsTest {
    @Test
    void a_histogram_topic_names_its_resolution_in_the_largest_whole_unit() {
        assertThat(Topics.histograms(10)).isEqualTo("latency.histograms.10s");
        assertThat(Topics.histograms(60)).isEqualTo("latency.histograms.1m");
        assertThat(Topics.histograms(90)).isEqualTo("latency.histograms.90s");
        assertThat(Topics.histograms(300)).isEqualTo("latency.histograms.5m");
        assertThat(Topics.histograms(3_600)).isEqualTo("latency.histograms.1h");
        assertThat(Topics.histograms(5_400)).isEqualTo("latency.histograms.90m");
        assertThat(Topics.histograms(86_400)).isEqualTo("latency.histograms.1d");
        assertThat(Topics.histograms(7 * 86_400)).isEqualTo("latency.histograms.7d");
        assertThatThrownBy(() -> Topics.histograms(0)).hasMessage("resolutionSeconds must be > 0, got 0");
    }

    @Test
    void a_histogram_topic_name_parses_back_to_its_resolution_and_other_names_do_not() {
        for (int seconds : new int[] {1, 10, 60, 90, 3_600, 5_400, 86_400, 864_000}) {
            assertThat(Topics.histogramsResolutionSeconds(Topics.histograms(seconds))).hasValue(seconds);
        }
        assertThat(Topics.histogramsResolutionSeconds("latency.histograms")).isEqualTo(OptionalInt.empty());
        assertThat(Topics.histogramsResolutionSeconds("latency.histograms.60s")).as("not in its largest unit").isEmpty();
        assertThat(Topics.histogramsResolutionSeconds("latency.histograms.0s")).isEmpty();
        assertThat(Topics.histogramsResolutionSeconds("latency.histograms.10s-changelog")).isEmpty();
        assertThat(Topics.histogramsResolutionSeconds("latency.histogramsX10s")).isEmpty();
        assertThat(Topics.histogramsResolutionSeconds("latency.histograms.999999999d")).as("beyond an int").isEmpty();
        assertThat(Topics.histogramsResolutionSeconds(Topics.SAMPLES)).isEmpty();
    }
}
