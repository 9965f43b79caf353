package io.tailprobe.query;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class QueryApiCommandTest {
    @Test
    void bad_configuration_exits_with_2_before_touching_kafka() {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new QueryApiCommand()).execute("--set", "http.port=70000");
            assertThat(exit).isEqualTo(2);
        } finally {
            System.setErr(originalErr);
        }
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("query-api: http.port must be in [0, 65535], got 70000");
    }

    @Test
    void help_names_the_command_and_the_shared_config_flags() {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new QueryApiCommand()).setOut(new PrintWriter(out));
        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString()).contains("query-api").contains("--config").contains("--set");
    }
}
