package io.tailprobe.agent.probe.icmp;

import java.io.IOException;
import java.net.Inet4Address;

/**
 * Sends echo requests and hands back the matching replies: {@link IcmpSocket} on the wire, a fake in
 * the tests of {@link IcmpProbe}'s round logic.
 */
interface Pinger {
    /** One reply: the index of the packet within its round and its round-trip time. */
    record Reply(int index, long rttNanos) {}

    /** Opens an exchange with one target for one round. */
    Exchange begin(Inet4Address target);

    /** The echo requests of one round to one target and their replies, in arrival order. */
    interface Exchange extends AutoCloseable {
        /** Sends packet {@code index} of the round with a payload of {@code payloadBytes}. */
        void send(int index, int payloadBytes) throws IOException;

        /** The next reply, waiting up to {@code timeoutNanos}; null when none came in time. */
        Reply poll(long timeoutNanos) throws InterruptedException;

        /** Stops matching replies of this round: a later reply is dropped. */
        @Override
        void close();
    }
}
