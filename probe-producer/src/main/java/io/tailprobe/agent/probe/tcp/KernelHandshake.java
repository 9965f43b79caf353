package io.tailprobe.agent.probe.tcp;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handshake time the kernel measured itself: after a connect, Linux's {@code TCP_INFO} holds
 * the RTT of the SYN → SYN-ACK exchange in microseconds ({@code tcpi_rtt}; the first RTT sample
 * of a connection is its smoothed RTT), stamped in the TCP stack when the SYN left and when the
 * SYN-ACK arrived. A wall clock around {@code connect()} adds the system call, the poller and, for
 * a virtual thread, the wake-up of its carrier: about 100 µs on a busy 2-core VM, more than the
 * whole handshake on a LAN.
 *
 * <p>Needs Linux, libc through JNA and the channel's file descriptor, which the JDK keeps in
 * {@code sun.nio.ch}: run with {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (the
 * tailprobe jar's manifest does). Without them, {@link #rttNanos} answers -1 and the probe falls
 * back to the wall clock, as it does when the SYN was retransmitted (the kernel's sample then
 * leaves out the retransmission timeout, which the application did wait for).
 */
final class KernelHandshake {
    private static final Logger LOG = LoggerFactory.getLogger(KernelHandshake.class);
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    /** Offsets in {@code struct tcp_info} (linux/tcp.h), stable since Linux 2.6. */
    private static final int RTT_MICROS_OFFSET = 68;
    private static final int TOTAL_RETRANS_OFFSET = 100;
    private static final int TCP_INFO_BYTES = 104;

    private static final MethodHandle FD_OF_CHANNEL;
    private static final String UNAVAILABLE;

    static {
        MethodHandle fdOfChannel = null;
        String unavailable = null;
        try {
            if (!Platform.isLinux()) {
                throw new UnsupportedOperationException("TCP_INFO is read on Linux only, this is " + System.getProperty("os.name"));
            }
            Native.register(KernelHandshake.class, Platform.C_LIBRARY_NAME);
            Class<?> selChImpl = Class.forName("sun.nio.ch.SelChImpl");
            fdOfChannel = MethodHandles.lookup()
                    .findVirtual(selChImpl, "getFDVal", MethodType.methodType(int.class))
                    .asType(MethodType.methodType(int.class, SocketChannel.class));
        } catch (IllegalAccessException e) {
            unavailable = "the JVM hides socket file descriptors (add --add-exports java.base/sun.nio.ch=ALL-UNNAMED)";
        } catch (Throwable e) {
            unavailable = e.toString();
        }
        FD_OF_CHANNEL = unavailable == null ? fdOfChannel : null;
        UNAVAILABLE = unavailable;
        if (unavailable != null) {
            LOG.info("TCP connect times come from the wall clock, not the kernel's handshake RTT: {}", unavailable);
        }
    }

    private KernelHandshake() {}

    private static native int getsockopt(int fd, int level, int name, byte[] value, int[] valueLength);

    /** Null when the kernel's handshake RTT can be read, else why not. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * The SYN → SYN-ACK time of {@code channel}'s connection in nanoseconds (microsecond resolution),
     * or -1 when unknown: not readable here, no RTT sample yet, or the SYN was retransmitted.
     */
    static long rttNanos(SocketChannel channel) {
        if (FD_OF_CHANNEL == null) {
            return -1;
        }
        int fd;
        try {
            fd = (int) FD_OF_CHANNEL.invokeExact(channel);
        } catch (Throwable e) {
            return -1;
        }
        byte[] info = new byte[TCP_INFO_BYTES];
        int[] length = {info.length};
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, length) != 0 || length[0] < TCP_INFO_BYTES) {
            return -1;
        }
        ByteBuffer buffer = ByteBuffer.wrap(info).order(ByteOrder.nativeOrder());
        long rttMicros = Integer.toUnsignedLong(buffer.getInt(RTT_MICROS_OFFSET));
        int retransmitted = buffer.getInt(TOTAL_RETRANS_OFFSET);
        return rttMicros > 0 && retransmitted == 0 ? rttMicros * 1_000 : -1;
    }
}
