package io.tailprobe.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tailprobe.common.ConfigException;
import io.tailprobe.common.ConfigLoader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AggregatorConfigTest {
    private static AggregatorConfig load(String... sets) {
        return ConfigLoader.load(AggregatorConfig.class, AggregatorConfig.defaults(), null, Map.of(), List.of(sets))
                .validated();
    }

    @Test
    void defaults_are_ten_second_windows_rolled_up_to_minutes_and_hours_exactly_once() {
        AggregatorConfig config = load();
        assertThat(config.window().size()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.window().rollups()).containsExactly(Duration.ofMinutes(1), Duration.ofHours(1));
        assertThat(config.streams().processingGuarantee()).isEqualTo("exactly_once_v2");
    }

    @Test
    void each_rule_fails_at_start_up_naming_the_key() {
        assertThatThrownBy(() -> load("window.rollups.0=45s"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("window.rollups[0] must be a larger multiple of 10s, got 45s");
        assertThatThrownBy(() -> load("window.size=1500ms"))
                .hasMessage("window.size must be whole seconds, got 1500ms");
        assertThatThrownBy(() -> load("streams.processingGuarantee=exactly_once"))
                .hasMessage("streams.processingGuarantee must be exactly_once_v2 or at_least_once, got exactly_once");
        assertThatThrownBy(() -> load("window.grace=-1s")).hasMessage("window.grace must be >= 0, got -1s");
    }
}
