package io.tailprobe.agent.schedule;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's sample sequence, increasing across restarts, so {@code host} and {@code sequence} name a
 * sample uniquely even when an agent restarts with samples from its last run still in the spool.
 * Numbers are reserved in blocks: the file holds the first number not yet reserved, rewritten (and
 * forced to disk) once per block, before any number of the block is handed out.
 *
 * <p>Example: with blocks of 10,000, an agent killed after sample 12,345 restarts at 20,000; the
 * numbers in between were never used, so a gap after a restart is not a loss.
 */
public final class PersistentSequence implements LongSupplier {
    public static final long BLOCK_SIZE = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(PersistentSequence.class);

    private final Path file;
    private long next;
    private long reservedUntil;
    private boolean failureLogged;

    private PersistentSequence(Path file, long next) {
        this.file = file;
        this.next = next;
        this.reservedUntil = next;
    }

    /**
     * Continues the sequence saved in {@code file} (from 0 if there is none) and reserves its first block.
     *
     * @throws IOException when the file cannot be read, holds no number, or cannot be written
     */
    public static PersistentSequence open(Path file) throws IOException {
        long first;
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            try {
                first = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IOException(file + " must hold the next sample sequence number, got \"" + text + "\"", e);
            }
        } catch (NoSuchFileException e) {
            first = 0;
        }
        PersistentSequence sequence = new PersistentSequence(file, first);
        sequence.reserve();
        return sequence;
    }

    /** The next number; never one an earlier run of this agent handed out. */
    @Override
    public synchronized long getAsLong() {
        if (next == reservedUntil) {
            try {
                reserve();
            } catch (IOException e) {
                // Better numbers that a later run may repeat than no samples at all; the log says so.
                reservedUntil += BLOCK_SIZE;
                if (!failureLogged) {
                    failureLogged = true;
                    LOG.error("cannot save the sample sequence to {} ({}); after a restart, sequence numbers from {} on "
                            + "may repeat (logged once)", file, e.toString(), next);
                }
            }
        }
        return next++;
    }

    private void reserve() throws IOException {
        long until = next + BLOCK_SIZE;
        Path written = file.resolveSibling(file.getFileName() + ".next");
        try (FileChannel channel = FileChannel.open(written, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer line = ByteBuffer.wrap((until + "\n").getBytes(StandardCharsets.US_ASCII));
            while (line.hasRemaining()) {
                channel.write(line);
            }
            channel.force(true);
        }
        Files.move(written, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        reservedUntil = until;
    }
}
