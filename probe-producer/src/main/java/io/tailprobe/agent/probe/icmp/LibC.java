package io.tailprobe.agent.probe.icmp;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls an ICMP socket needs, bound by JNA direct mapping (no subprocess, no JNI code of
 * our own). Linux x86-64/aarch64 constants and LP64 sizes: {@code size_t} and {@code ssize_t} are
 * {@code long}. A call that returns -1 leaves errno in {@link Native#getLastError()}.
 */
final class LibC {
    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int IPPROTO_ICMP = 1;
    static final int SOL_RAW = 255;
    static final int SOL_SOCKET = 1;
    /** Kernel receive timestamps as a {@code struct timespec} control message ({@code SCM_TIMESTAMPNS}). */
    static final int SO_TIMESTAMPNS = 35;
    static final int CLOCK_REALTIME = 0;
    /** Transmit timestamps on the error queue ({@code SCM_TIMESTAMPING}: software, legacy, hardware). */
    static final int SO_TIMESTAMPING = 37;
    static final int SOF_TIMESTAMPING_TX_SOFTWARE = 1 << 1;
    static final int SOF_TIMESTAMPING_SOFTWARE = 1 << 4;
    static final int SOF_TIMESTAMPING_OPT_ID = 1 << 7;
    static final int SOF_TIMESTAMPING_OPT_TSONLY = 1 << 11;
    static final int SOL_IP = 0;
    /** The {@code struct sock_extended_err} control message of an error-queue entry. */
    static final int IP_RECVERR = 11;
    static final int SO_EE_ORIGIN_TIMESTAMPING = 4;
    static final int MSG_ERRQUEUE = 0x2000;
    /** Raw ICMP sockets only: a bit mask of ICMP types the kernel should not deliver. */
    static final int ICMP_FILTER = 1;
    static final short POLLIN = 1;
    static final int MSG_DONTWAIT = 0x40;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENETUNREACH = 101;
    static final int EHOSTUNREACH = 113;
    /** Bytes of a {@code struct sockaddr_in}. */
    static final int SOCKADDR_IN_BYTES = 16;
    /** Bytes of a {@code struct pollfd}: int fd, short events, short revents. */
    static final int POLLFD_BYTES = 8;

    private static volatile Throwable loadFailure;

    static {
        try {
            Native.register(LibC.class, Platform.C_LIBRARY_NAME);
        } catch (Throwable e) {
            loadFailure = e;
        }
    }

    private LibC() {}

    /** Null when libc is bound, else why it is not (e.g. not Linux, or JNA's native part missing). */
    static Throwable loadFailure() {
        return loadFailure;
    }

    static native int socket(int domain, int type, int protocol);

    static native long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength);

    static native long recvmsg(int fd, Pointer message, int flags);

    /** {@code timespec} as {seconds, nanoseconds}. */
    static native int clock_gettime(int clock, long[] timespec);

    static native int poll(byte[] pollFds, long count, int timeoutMillis);

    static native int setsockopt(int fd, int level, int name, int[] value, int valueLength);

    static native int close(int fd);

    static native int getegid();

    static native String strerror(int errno);

    /** CLOCK_REALTIME in nanoseconds since the epoch, the clock of the kernel's packet timestamps. */
    static long realtimeNanos() {
        long[] timespec = new long[2];
        clock_gettime(CLOCK_REALTIME, timespec);
        return timespec[0] * 1_000_000_000L + timespec[1];
    }

    /** The text of the current thread's errno, e.g. {@code Operation not permitted}. */
    static String lastError() {
        return describe(Native.getLastError());
    }

    static String describe(int errno) {
        return strerror(errno) + " (errno " + errno + ")";
    }
}
