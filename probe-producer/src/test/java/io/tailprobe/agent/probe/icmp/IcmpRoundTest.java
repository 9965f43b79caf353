package io.tailprobe.agent.probe.icmp;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.agent.probe.icmp.Pinger.Reply;
import io.tailprobe.agent.probe.icmp.IcmpProbe.Round;
import io.tailprobe.schemas.Outcome;
import java.net.NoRouteToHostException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The round logic of {@link IcmpProbe} over a scripted reply source: loss, reordering, timeouts. */
class IcmpRoundTest {
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(200);
    private static final long MS = 1_000_000L;

    @Test
    void lost_replies_count_as_loss_and_the_round_still_reports_ok_after_waiting_out_the_timeout() throws Exception {
        ScriptedPinger pinger = ScriptedPinger.replying(new Reply(0, 3 * MS), new Reply(2, 1 * MS), new Reply(4, 2 * MS));

        long start = System.nanoTime();
        Round round = probe(pinger, 6).round();
        long elapsedNanos = System.nanoTime() - start;

        assertThat(round.result().outcome()).isEqualTo(Outcome.OK);
        assertThat(round.result().address()).isEqualTo("127.0.0.1");
        assertThat(round.packetsSent()).isEqualTo(6);
        assertThat(round.packetsReceived()).isEqualTo(3);
        assertThat(round.packetsLost()).isEqualTo(3);
        assertThat(round.packetsReordered()).isZero();
        assertThat(round.rttNanos()).containsExactly(3 * MS, 1 * MS, 2 * MS);
        assertThat(round.medianRttNanos()).isEqualTo(2 * MS);
        assertThat(elapsedNanos).isBetween(SHORT_TIMEOUT.toNanos(), SHORT_TIMEOUT.toNanos() + 2_000 * MS);
        assertThat(pinger.closed).as("the exchange is closed so late replies are dropped").isTrue();
    }

    @Test
    void a_reply_that_arrives_after_the_reply_of_a_later_packet_counts_as_reordered() throws Exception {
        ScriptedPinger pinger = ScriptedPinger.replying(new Reply(0, MS), new Reply(2, MS), new Reply(1, MS),
                new Reply(4, MS), new Reply(3, MS));

        long start = System.nanoTime();
        Round round = probe(pinger, 5).round();
        long elapsedNanos = System.nanoTime() - start;

        assertThat(round.packetsReceived()).isEqualTo(5);
        assertThat(round.packetsReordered()).isEqualTo(2);
        assertThat(elapsedNanos).as("a complete round does not wait for the timeout").isLessThan(SHORT_TIMEOUT.toNanos());
    }

    @Test
    void duplicate_replies_and_replies_to_packets_never_sent_are_ignored() throws Exception {
        ScriptedPinger pinger = ScriptedPinger.replying(new Reply(0, MS), new Reply(0, 9 * MS), new Reply(7, MS),
                new Reply(1, 2 * MS));

        Round round = probe(pinger, 2).round();

        assertThat(round.packetsReceived()).isEqualTo(2);
        assertThat(round.rttNanos()).containsExactly(MS, 2 * MS);
        assertThat(round.medianRttNanos()).isEqualTo(MS + MS / 2);
    }

    @Test
    void no_reply_at_all_times_out_with_the_packets_counted_as_lost() throws Exception {
        ScriptedPinger pinger = ScriptedPinger.replying();

        long start = System.nanoTime();
        var result = probe(pinger, 3).probe();
        long elapsedNanos = System.nanoTime() - start;

        assertThat(result.outcome()).isEqualTo(Outcome.TIMEOUT);
        assertThat(result.errorDetail())
                .isEqualTo("no echo reply from 127.0.0.1 to 3 packets within the probe timeout 200ms");
        assertThat(result.packetsSent()).isEqualTo(3);
        assertThat(result.packetsReceived()).isZero();
        assertThat(result.latencyNanos()).isNull();
        // waits the whole timeout, and gives up then rather than at some later deadline (2 s margin for a loaded CI host)
        assertThat(elapsedNanos).isBetween(SHORT_TIMEOUT.toNanos(), SHORT_TIMEOUT.toNanos() + 2_000 * MS);
    }

    @Test
    void a_send_without_a_route_is_unreachable_and_does_not_wait_for_replies() throws Exception {
        ScriptedPinger pinger = ScriptedPinger.failingAt(0, new NoRouteToHostException("Network is unreachable (errno 101)"));

        long start = System.nanoTime();
        Round round = probe(pinger, 5).round();
        long elapsedNanos = System.nanoTime() - start;

        assertThat(round.result().outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(round.result().errorDetail()).isEqualTo("send to 127.0.0.1: Network is unreachable (errno 101)");
        assertThat(round.packetsSent()).isZero();
        assertThat(elapsedNanos).isLessThan(SHORT_TIMEOUT.toNanos());
    }

    @Test
    void a_host_that_cannot_be_resolved_is_a_dns_error_naming_the_host() throws Exception {
        IcmpProbe probe = new IcmpProbe("no-such-host.invalid", SHORT_TIMEOUT, 5, 56, ScriptedPinger::replying);

        Round round = probe.round();

        assertThat(round.result().outcome()).isEqualTo(Outcome.DNS_ERROR);
        assertThat(round.result().address()).isEqualTo("no-such-host.invalid");
        assertThat(round.result().errorDetail()).isEqualTo("cannot resolve no-such-host.invalid");
    }

    @Test
    void the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assertThat(IcmpProbe.median(List.of(2_100L, 310L, 320L, 330L, 350L))).isEqualTo(330L);
        assertThat(IcmpProbe.median(List.of(310L, 320L, 330L, 350L))).isEqualTo(325L);
    }

    private static IcmpProbe probe(ScriptedPinger pinger, int packets) {
        return new IcmpProbe("127.0.0.1", SHORT_TIMEOUT, packets, IcmpProbe.DEFAULT_PAYLOAD_BYTES, () -> pinger);
    }
}
