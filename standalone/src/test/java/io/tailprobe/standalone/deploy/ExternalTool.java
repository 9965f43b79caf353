package io.tailprobe.standalone.deploy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A checker that may not be installed (promtool, yamllint, systemd-analyze, terraform). Where it is
 * missing the calling test is skipped with the reason, unless {@code requireVariable} is set (CI sets
 * {@code TAILPROBE_REQUIRE_PROMTOOL} and {@code TAILPROBE_REQUIRE_YAMLLINT}): then it fails.
 */
record ExternalTool(String name, Path path) {
    record Result(int exitCode, String output) {}

    static ExternalTool find(String name, String requireVariable, String install) {
        Path found = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(dir -> Path.of(dir, name)).filter(Files::isExecutable).findFirst().orElse(null);
        if (found == null && requireVariable != null && System.getenv(requireVariable) != null) {
            throw new AssertionError(requireVariable + " is set but " + name + " is not on the PATH (" + install + ")");
        }
        assumeTrue(found != null, name + " is not on the PATH; " + install + " to run this check");
        return new ExternalTool(name, found);
    }

    Result run(Path workingDirectory, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(path.toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(name + " did not finish in 60 s");
        }
        return new Result(process.exitValue(), output.strip());
    }
}
