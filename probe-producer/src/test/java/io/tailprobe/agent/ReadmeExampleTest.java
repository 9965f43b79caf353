package io.tailprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The targets.yaml example in the README loads and validates, so the README stays true. */
class ReadmeExampleTest {
    @Test
    void the_readme_targets_example_is_a_valid_agent_configuration(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("```yaml\nagent:");
        assertThat(start).as("README has a yaml block starting with agent:").isNotNegative();
        String yaml = readme.substring(start + "```yaml\n".length(), readme.indexOf("```", start + 7));
        Path file = dir.resolve("targets.yaml");
        Files.writeString(file, yaml);

        Path fileSd = dir.resolve("postgres.json");
        Files.writeString(fileSd, "[{\"targets\": [\"10.0.0.7:5432\", \"10.0.0.8:5432\"], \"labels\": {\"az\": \"a\"}}]");
        yaml = yaml.replace("/etc/tailprobe/postgres.json", fileSd.toString());
        Files.writeString(file, yaml);
        AgentConfig config = AgentConfig.load(file, Map.of(), List.of());
        List<AgentConfig.PlannedTarget> planned = config.plan();

        assertThat(planned).extracting(AgentConfig.PlannedTarget::type)
                .contains("tcp", "http", "dns", "udp", "icmp");
        assertThat(planned.stream().filter(t -> t.name().equals("postgres"))).extracting(AgentConfig.PlannedTarget::instance)
                .containsExactly("10.0.0.7:5432", "10.0.0.8:5432");
        assertThat(config.agent().id()).isEqualTo("web-17");
        assertThat(config.udpEcho().port()).isEqualTo(7007);
        planned.forEach(t -> t.probe().close());
    }
}
