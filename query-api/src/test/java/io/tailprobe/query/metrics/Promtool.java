package io.tailprobe.query.metrics;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus' own linter, {@code promtool check metrics} (Debian package {@code prometheus}). CI installs
 * it and sets {@code TAILPROBE_REQUIRE_PROMTOOL=1}, so there a missing promtool fails the test; elsewhere
 * the test is skipped with the reason.
 */
final class Promtool {
    static final String REQUIRE = "TAILPROBE_REQUIRE_PROMTOOL";

    record Result(int exitCode, String output) {}

    private Promtool() {}

    /** promtool on the PATH; skips the calling test when there is none, or fails it when CI requires one. */
    static Path find() {
        Path found = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(dir -> Path.of(dir, "promtool")).filter(Files::isExecutable).findFirst().orElse(null);
        if (found == null && System.getenv(REQUIRE) != null) {
            throw new AssertionError(REQUIRE + " is set but promtool is not on the PATH (apt-get install prometheus)");
        }
        assumeTrue(found != null, "promtool is not on the PATH; install Debian's prometheus package to run this check");
        return found;
    }

    /** Feeds {@code exposition} to {@code promtool check metrics} and returns its exit code and output. */
    static Result checkMetrics(Path promtool, String exposition) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("promtool check metrics did not finish in 30 s");
        }
        return new Result(process.exitValue(), output.strip());
    }
}
