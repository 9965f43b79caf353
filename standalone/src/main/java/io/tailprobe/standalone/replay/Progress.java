package io.tailprobe.standalone.replay;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * A progress line on stderr, about once a second: records read, records per second over the last
 * second, and how much of the time range is covered. On a terminal the line is rewritten in place and
 * erased at the end, so nothing is left between the table on stdout and the shell prompt; elsewhere
 * (with {@code --progress} into a file) it is one line per update.
 */
final class Progress implements AutoCloseable {
    private final PrintStream err;
    private final boolean terminal;
    private final LongSupplier records;
    private final DoubleSupplier coveredFraction;
    private final Thread thread;
    private volatile boolean running = true;
    private int lastLength;

    private Progress(PrintStream err, boolean terminal, LongSupplier records, DoubleSupplier coveredFraction) {
        this.err = err;
        this.terminal = terminal;
        this.records = records;
        this.coveredFraction = coveredFraction;
        this.thread = Thread.ofPlatform().daemon().name("replay-progress").unstarted(this::run);
    }

    /** Starts reporting when {@code forced} or stderr is a terminal; else reports nothing. */
    static Progress start(PrintStream err, boolean forced, LongSupplier records, DoubleSupplier coveredFraction) {
        boolean terminal = stderrIsTerminal();
        Progress progress = new Progress(err, terminal, records, coveredFraction);
        if (forced || terminal) {
            progress.thread.start();
        }
        return progress;
    }

    /**
     * Java tells whether there is a console, not where stderr goes; on Linux the file descriptor's link
     * does ({@code /dev/pts/3} for a terminal, {@code pipe:[…]} or a file otherwise).
     */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception | LinkageError e) {
            return System.console() != null;
        }
    }

    private void run() {
        long lastRecords = records.getAsLong();
        long lastNanos = System.nanoTime();
        while (running) {
            synchronized (this) {
                try {
                    wait(1_000);
                } catch (InterruptedException e) {
                    return;
                }
                if (!running) {
                    return;
                }
                long now = System.nanoTime();
                long read = records.getAsLong();
                double perSecond = (read - lastRecords) * 1e9 / Math.max(1, now - lastNanos);
                lastRecords = read;
                lastNanos = now;
                String line = String.format(Locale.ROOT, "replay: %,d records, %,.0f records/s, %.0f%% of the range",
                        read, perSecond, coveredFraction.getAsDouble() * 100);
                if (terminal) {
                    err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
                    lastLength = line.length();
                } else {
                    err.println(line);
                }
                err.flush();
            }
        }
    }

    /** Stops reporting and erases the line on a terminal. */
    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        notifyAll();
        if (terminal && lastLength > 0) {
            err.print("\r" + " ".repeat(lastLength) + "\r");
            err.flush();
        }
    }
}
