package io.tailprobe.agent.probe.icmp;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link Pinger} that delivers a fixed list of replies in order, and optionally fails a send. */
final class ScriptedPinger implements Pinger {
    private final List<Reply> replies;
    private final int failingIndex;
    private final IOException failure;
    volatile int sent;
    volatile boolean closed;

    private ScriptedPinger(List<Reply> replies, int failingIndex, IOException failure) {
        this.replies = replies;
        this.failingIndex = failingIndex;
        this.failure = failure;
    }

    static ScriptedPinger replying(Reply... replies) {
        return new ScriptedPinger(List.of(replies), -1, null);
    }

    static ScriptedPinger failingAt(int index, IOException failure) {
        return new ScriptedPinger(List.of(), index, failure);
    }

    @Override
    public Exchange begin(Inet4Address target) {
        BlockingQueue<Reply> queue = new LinkedBlockingQueue<>(replies);
        return new Exchange() {
            @Override
            public void send(int index, int payloadBytes) throws IOException {
                if (index == failingIndex) {
                    throw failure;
                }
                sent++;
            }

            @Override
            public Reply poll(long timeoutNanos) throws InterruptedException {
                return queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }
}
