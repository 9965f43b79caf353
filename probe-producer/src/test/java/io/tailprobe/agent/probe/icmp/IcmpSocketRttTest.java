package io.tailprobe.agent.probe.icmp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IcmpSocketRttTest {
    private static final long SENT_MONOTONIC = 5_000_000L;
    private static final long SENT_REALTIME = 1_700_000_000_000_000_000L;

    @Test
    void the_kernels_stamps_leave_out_the_sendto_path_and_the_receivers_wake_up() {
        // the driver took the request 30 µs after the clock read, on the wire 23 µs, the receiver woke 180 µs later
        long rtt = IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 233_000, SENT_REALTIME, SENT_REALTIME + 30_000,
                SENT_REALTIME + 53_000);

        assertThat(rtt).isEqualTo(23_000);
    }

    @Test
    void without_a_transmit_stamp_the_clock_read_before_sendto_starts_the_rtt() {
        long rtt = IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 233_000, SENT_REALTIME, 0, SENT_REALTIME + 53_000);

        assertThat(rtt).isEqualTo(53_000);
    }

    @Test
    void a_transmit_stamp_outside_the_exchange_is_ignored() {
        long beforeTheSend = IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 233_000, SENT_REALTIME,
                SENT_REALTIME - 5_000, SENT_REALTIME + 53_000);
        long afterTheReply = IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 233_000, SENT_REALTIME,
                SENT_REALTIME + 60_000, SENT_REALTIME + 53_000);

        assertThat(beforeTheSend).isEqualTo(53_000);
        assertThat(afterTheReply).isEqualTo(53_000);
    }

    @Test
    void without_a_kernel_stamp_the_monotonic_clock_is_used() {
        assertThat(IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 203_000, SENT_REALTIME, 0, -1)).isEqualTo(203_000);
        assertThat(IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 203_000, 0, 0, SENT_REALTIME)).isEqualTo(203_000);
    }

    @Test
    void a_step_of_the_real_time_clock_falls_back_to_the_monotonic_clock() {
        long back = IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 203_000, SENT_REALTIME, 0,
                SENT_REALTIME - 1_000_000);
        long forward = IcmpSocket.rttNanos(SENT_MONOTONIC, SENT_MONOTONIC + 203_000, SENT_REALTIME, 0,
                SENT_REALTIME + 1_000_000_000);

        assertThat(back).isEqualTo(203_000);
        assertThat(forward).isEqualTo(203_000);
    }
}
