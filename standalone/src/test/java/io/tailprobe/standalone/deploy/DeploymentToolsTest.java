package io.tailprobe.standalone.deploy;

import static io.tailprobe.standalone.deploy.DeployFiles.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment files through the tools that own their formats: {@code promtool check config},
 * {@code yamllint}, {@code systemd-analyze verify}, {@code terraform fmt -check}; and, always, a strict
 * YAML parse (duplicate keys fail) of every YAML file that is not a Helm template.
 */
class DeploymentToolsTest {
    @Test
    void prometheus_configuration_passes_promtool() throws Exception {
        ExternalTool promtool = ExternalTool.find("promtool", "TAILPROBE_REQUIRE_PROMTOOL", "apt-get install prometheus");
        ExternalTool.Result result = promtool.run(ROOT, "check", "config", "docker/prometheus/prometheus.yml");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS");
    }

    @Test
    void yaml_files_pass_yamllint() throws Exception {
        ExternalTool yamllint = ExternalTool.find("yamllint", "TAILPROBE_REQUIRE_YAMLLINT", "apt-get install yamllint");
        ExternalTool.Result result = yamllint.run(ROOT, "--strict", "-c", ".yamllint.yaml", "-f", "parsable", "docker", "deploy");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).isEmpty();
    }

    @Test
    void every_yaml_file_parses_strictly() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Stream.concat(Files.walk(ROOT.resolve("docker")), Files.walk(ROOT.resolve("deploy")))) {
            files = walk.filter(p -> p.toString().matches(".*\\.ya?ml") && !p.toString().contains("/templates/")).toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(7);
        for (Path file : files) {
            assertThat(DeployFiles.yaml(DeployFiles.read(file))).as(ROOT.relativize(file).toString()).isNotNull();
        }
    }

    @Test
    void systemd_unit_verifies_for_every_service(@TempDir Path dir) throws Exception {
        ExternalTool analyze = ExternalTool.find("systemd-analyze", null, "install systemd");
        Path template = Files.copy(DeployFiles.SYSTEMD_UNIT, dir.resolve("tailprobe@.service"));
        for (ServiceConfig service : ServiceConfig.values()) {
            Path instance = Files.createSymbolicLink(dir.resolve("tailprobe@" + service.command + ".service"), template.getFileName());
            ExternalTool.Result result = analyze.run(dir, "verify", instance.toString());
            // the unit runs /usr/bin/java, which a build machine may lack; everything else must be clean
            String output = Files.isExecutable(Path.of("/usr/bin/java")) ? result.output()
                    : result.output().replaceAll("(?m)^.*Command /usr/bin/java is not executable.*$\\n?", "").strip();
            assertThat(output).as("systemd-analyze verify " + instance.getFileName()).isEmpty();
            if (Files.isExecutable(Path.of("/usr/bin/java"))) {
                assertThat(result.exitCode()).as(result.output()).isZero();
            }
        }
    }

    @Test
    void terraform_files_are_formatted() throws Exception {
        ExternalTool terraform = ExternalTool.find("terraform", null, "install terraform");
        ExternalTool.Result result = terraform.run(DeployFiles.AWS, "fmt", "-check", "-recursive", "-diff", ".");
        assertThat(result.exitCode()).as(result.output()).isZero();
    }
}
