package io.tailprobe.agent.probe.icmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.security.auth.module.UnixSystem;
import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.probe.icmp.IcmpProbe.Round;
import io.tailprobe.schemas.Outcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pings a host that never answers, without leaving the machine: a network namespace behind a veth
 * pair whose kernel ignores echo requests ({@code net.ipv4.icmp_echo_ignore_all=1}). Built and torn
 * down here with {@code ip}; skipped unless run as root.
 */
class IcmpSilentHostTest {
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);
    private static final long PID = ProcessHandle.current().pid();
    private static final String NAMESPACE = "tp-icmp-" + PID;
    private static final String HOST_LINK = "tpi" + PID % 100_000;
    private static final String PEER_LINK = "tpp" + PID % 100_000;
    private static final String SUBNET = "198.18." + PID % 250 + ".";
    private static final String SILENT_HOST = SUBNET + "2";

    @BeforeAll
    static void createSilentHost() throws Exception {
        assumeTrue(new UnixSystem().getUid() == 0, "needs root for ip netns");
        ip("netns", "add", NAMESPACE);
        ip("link", "add", HOST_LINK, "type", "veth", "peer", "name", PEER_LINK, "netns", NAMESPACE);
        ip("addr", "add", SUBNET + "1/30", "dev", HOST_LINK);
        ip("link", "set", HOST_LINK, "up");
        ip("-n", NAMESPACE, "addr", "add", SILENT_HOST + "/30", "dev", PEER_LINK);
        ip("-n", NAMESPACE, "link", "set", PEER_LINK, "up");
        Round control = IcmpProbe.fromConfig(new AgentConfig.Target("control", "icmp", SILENT_HOST), Duration.ofSeconds(2), 2, null)
                .round();
        assertThat(control.packetsReceived()).as("the namespace answers before it is told to ignore echo requests").isEqualTo(2);
        ip("netns", "exec", NAMESPACE, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1");
    }

    @AfterAll
    static void removeSilentHost() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String[] command : new String[][] {{"link", "del", HOST_LINK}, {"netns", "del", NAMESPACE}}) {
            try {
                ip(command);
            } catch (IOException e) {
                failures.add(e.getMessage());
            }
        }
        assertThat(failures).as("clean-up of %s", NAMESPACE).allMatch(m -> m.contains("Cannot find") || m.contains("No such"));
    }

    @Test
    void a_host_that_ignores_echo_requests_times_out_with_every_packet_lost() throws Exception {
        IcmpProbe probe = IcmpProbe.fromConfig(new AgentConfig.Target("silent", "icmp", SILENT_HOST), SHORT_TIMEOUT, 3, null);

        long start = System.nanoTime();
        Round round = probe.round();
        long elapsedNanos = System.nanoTime() - start;

        assertThat(round.result().outcome()).isEqualTo(Outcome.TIMEOUT);
        assertThat(round.result().errorDetail())
                .isEqualTo("no echo reply from " + SILENT_HOST + " to 3 packets within the probe timeout 300ms");
        assertThat(round.packetsSent()).isEqualTo(3);
        assertThat(round.packetsLost()).isEqualTo(3);
        assertThat(round.medianRttNanos()).isNull();
        assertThat(elapsedNanos).isBetween(SHORT_TIMEOUT.toNanos(), SHORT_TIMEOUT.toNanos() + Duration.ofSeconds(2).toNanos());
    }

    @Test
    void an_interrupt_ends_a_waiting_round_with_interrupted_exception() throws Exception {
        IcmpProbe probe = IcmpProbe.fromConfig(new AgentConfig.Target("silent", "icmp", SILENT_HOST), Duration.ofSeconds(30));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread prober = Thread.ofVirtual().start(() -> {
            try {
                probe.round();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> prober.getState() == Thread.State.TIMED_WAITING);

        prober.interrupt();

        assertThat(prober.join(Duration.ofSeconds(2))).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    private static void ip(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + ": " + output);
        }
    }
}
