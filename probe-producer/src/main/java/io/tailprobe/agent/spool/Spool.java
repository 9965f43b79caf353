package io.tailprobe.agent.spool;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.AvroSerde;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Topics;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's outage spool: samples Kafka has not acknowledged yet, on disk in the order they came,
 * read back in that order and removed only once Kafka acknowledged them ({@link #acknowledge}).
 *
 * <p>On disk, in one directory per agent: segment files named by the index of their first record
 * ({@code 00000000000000004096.spool}), each a run of records {@code [payload length: int]
 * [CRC32C of the payload: int][payload]} whose payload is the sample exactly as it goes to Kafka
 * ({@link Topics#sampleSerde()}, Avro single-object encoding); {@code cursor}, the first record not yet
 * acknowledged, replaced atomically; and {@code lock}, held while an agent has the spool open, so two
 * agents never share one. A segment is deleted once every record in it is acknowledged.
 *
 * <p>Crash safety: a record is written with one positional write straight to the file, so a
 * {@code SIGKILL} loses at most the record being written; {@link #open} finds such a torn record by
 * its length and CRC, logs it, counts it ({@code reason="corrupt"}) and cuts it off, keeping every
 * record before it. Segment data is forced to the device and the cursor rewritten at most once a
 * second ({@link #flushIfDue}), so a power cut can lose the last second of spooled samples, and a crash
 * can send the last second of acknowledged ones again (at-least-once, never silently lost).
 *
 * <p>Limits: when a new sample would take the unacknowledged bytes past {@code maxBytes}, the
 * <em>oldest</em> samples make room, and samples whose scheduled start is older than {@code maxAge} leave
 * too: an operator cares most about the recent past and about how an outage ended. Every drop is counted
 * in {@code tailprobe_agent_spool_samples_dropped_total} by reason and logged at most once a minute.
 * Example: a TCP sample takes about 120 bytes here, so the default 256 MiB holds about 2.2 million
 * samples — 6 hours of an agent probing 100 times a second — in 32 segments of 8 MiB, and the files
 * never hold more than {@code maxBytes} plus one segment.
 *
 * <p>Thread-safe: the sink queue appends while the spool sender reads and acknowledges.
 */
public final class Spool implements AutoCloseable {
    public static final long DEFAULT_SEGMENT_BYTES = 8L << 20;
    static final int HEADER_BYTES = 8;
    static final int MAX_PAYLOAD_BYTES = 1 << 20;
    static final String SEGMENT_SUFFIX = ".spool";
    static final String CURSOR_FILE = "cursor";
    static final String LOCK_FILE = "lock";
    private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}" + Pattern.quote(SEGMENT_SUFFIX));
    private static final int READ_BUFFER_BYTES = 64 << 10;
    private static final long SYNC_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long DROP_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);

    /** Why samples left the spool unsent; the label of {@code tailprobe_agent_spool_samples_dropped_total}. */
    public enum DropReason {
        FULL("full"), AGE("age"), CORRUPT("corrupt"), WRITE_ERROR("write_error");

        private final String label;

        DropReason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One spooled sample and its index, the handle to {@link #acknowledge} it with. */
    public record Entry(long index, LatencySample sample) {}

    /** A record's place: its segment, its byte offset there, and its index. */
    private record Position(long segmentBase, long offset, long index) {
        boolean before(Position other) {
            return segmentBase < other.segmentBase || (segmentBase == other.segmentBase && offset < other.offset);
        }
    }

    /** A record that is not whole (torn by a crash mid-write) or not what was written (damaged). */
    private static final class BadRecord extends Exception {
        BadRecord(String message) {
            super(message, null, false, false);
        }
    }

    private static final class Segment {
        final long base;
        final Path path;
        final FileChannel channel;
        long sizeBytes;

        Segment(long base, Path path, FileChannel channel, long sizeBytes) {
            this.base = base;
            this.path = path;
            this.channel = channel;
            this.sizeBytes = sizeBytes;
        }
    }

    private final Path directory;
    private final long maxBytes;
    private final long maxAgeMicros;
    private final long segmentBytes;
    private final AgentMetrics metrics;
    private final InstantSource clock;
    private final FileChannel lockChannel;
    private final AvroSerde<LatencySample> serde = Topics.sampleSerde();
    private final NavigableMap<Long, Segment> segments = new TreeMap<>();
    private final Set<Long> acknowledgedAhead = new HashSet<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER_BYTES);
    private final Map<DropReason, Long> unloggedDrops = new EnumMap<>(DropReason.class);
    private final Map<DropReason, Long> lastDropLogNanos = new EnumMap<>(DropReason.class);
    private Segment bufferedSegment;
    private long bufferedOffset;
    private Position cursor;
    private Position readPosition;
    private long nextIndex;
    private long liveRecords;
    private long liveBytes;
    private long headIndex = -1;
    private LatencySample head;
    private boolean dataDirty;
    private boolean cursorDirty;
    private long lastSyncNanos = System.nanoTime();
    private boolean closed;

    private Spool(Path directory, long maxBytes, Duration maxAge, long segmentBytes, AgentMetrics metrics,
                  InstantSource clock, FileChannel lockChannel) {
        this.directory = directory;
        this.maxBytes = maxBytes;
        this.maxAgeMicros = TimeUnit.NANOSECONDS.toMicros(maxAge.toNanos());
        this.segmentBytes = segmentBytes;
        this.metrics = metrics;
        this.clock = clock;
        this.lockChannel = lockChannel;
    }

    /**
     * Opens (creating it if need be) the spool in {@code directory} and recovers what an earlier run
     * left: every record after the saved cursor that is whole and matches its CRC.
     *
     * @throws IOException when the directory cannot be created or written, or another agent holds it
     */
    public static Spool open(Path directory, long maxBytes, Duration maxAge, long segmentBytes, AgentMetrics metrics,
                             InstantSource clock) throws IOException {
        if (maxBytes < HEADER_BYTES + 1 || segmentBytes < HEADER_BYTES + 1 || !maxAge.isPositive()) {
            throw new IllegalArgumentException("maxBytes and segmentBytes must hold a record and maxAge must be > 0, got "
                    + maxBytes + ", " + segmentBytes + ", " + Durations.format(maxAge));
        }
        Files.createDirectories(directory);
        FileChannel lockChannel = FileChannel.open(directory.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        Spool spool = null;
        try {
            FileLock lock;
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IOException("another agent has this spool open (" + directory.resolve(LOCK_FILE)
                        + " is locked); give each agent its own spool.directory");
            }
            spool = new Spool(directory, maxBytes, maxAge, segmentBytes, metrics, clock, lockChannel);
            spool.recover();
            metrics.watchSpool(spool);
            return spool;
        } catch (IOException | RuntimeException e) {
            if (spool != null) {
                spool.closeFiles();
            } else {
                lockChannel.close();
            }
            throw e;
        }
    }

    public Path directory() {
        return directory;
    }

    private void recover() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SEGMENT_SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (!SEGMENT_NAME.matcher(name).matches()) {
                    LOG.warn("spool {}: ignoring {}, not a segment name", directory, name);
                    continue;
                }
                long base = Long.parseLong(name.substring(0, 20));
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                segments.put(base, new Segment(base, file, channel, channel.size()));
            }
        }
        cursor = startingCursor(readCursor());
        deleteSegmentsBefore(cursor.segmentBase());
        rescan();
        readPosition = cursor;
        if (liveRecords > 0) {
            LOG.info("spool {}: {} samples ({} bytes) from an earlier run, not yet acknowledged by Kafka",
                    directory, liveRecords, liveBytes);
        }
    }

    /** The saved cursor, or null when there is none or it cannot be read (then every record counts as unsent). */
    private Position readCursor() {
        Path file = directory.resolve(CURSOR_FILE);
        try {
            String[] fields = Files.readString(file, StandardCharsets.US_ASCII).strip().split(" ");
            return new Position(Long.parseLong(fields[1]), Long.parseLong(fields[2]), Long.parseLong(fields[0]));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            LOG.warn("spool {}: cannot read {} ({}); sending every spooled sample, some perhaps again",
                    directory, file, e.toString());
            return null;
        }
    }

    private Position startingCursor(Position saved) {
        if (segments.isEmpty()) {
            long index = saved == null ? 0 : saved.index();
            return new Position(index, 0, index);
        }
        long first = segments.firstKey();
        if (saved == null || saved.segmentBase() < first) {
            return new Position(first, 0, first);
        }
        Segment segment = segments.get(saved.segmentBase());
        if (segment == null) {
            Long next = segments.ceilingKey(saved.segmentBase());
            LOG.warn("spool {}: the cursor names segment {}, which is missing; going on from {}", directory,
                    saved.segmentBase(), next);
            return next == null ? new Position(saved.index(), 0, saved.index()) : new Position(next, 0, next);
        }
        if (saved.offset() > segment.sizeBytes) {
            LOG.warn("spool {}: the cursor points past the end of segment {} ({} > {} bytes); going on from its end",
                    directory, segment.path.getFileName(), saved.offset(), segment.sizeBytes);
            return new Position(saved.segmentBase(), segment.sizeBytes, saved.index());
        }
        return saved;
    }

    /**
     * Counts the records from the cursor to the end, checking each, and cuts every segment off at its
     * first bad record: a record torn by a crash at the end, or damage anywhere.
     */
    private void rescan() throws IOException {
        liveRecords = 0;
        liveBytes = 0;
        long index = cursor.index();
        for (Segment segment : segments.tailMap(cursor.segmentBase(), true).values()) {
            long offset = segment.base == cursor.segmentBase() ? cursor.offset() : 0;
            if (segment.base != cursor.segmentBase()) {
                index = segment.base;
            }
            long start = offset;
            while (offset < segment.sizeBytes) {
                try {
                    offset += HEADER_BYTES + payload(segment, offset).length;
                    index++;
                    liveRecords++;
                } catch (BadRecord bad) {
                    cutOff(segment, offset, bad);
                }
            }
            liveBytes += offset - start;
        }
        nextIndex = index;
        acknowledgedAhead.removeIf(i -> i >= nextIndex);
        headIndex = -1;
    }

    private void cutOff(Segment segment, long offset, BadRecord bad) throws IOException {
        boolean last = segment == segments.lastEntry().getValue();
        LOG.warn("spool {}: {} at byte {} of {}{}; cutting off the segment's last {} bytes, keeping every record "
                        + "before them", directory, bad.getMessage(), offset, segment.path.getFileName(),
                last ? " (the newest segment, as a crash mid-write leaves it)" : "", segment.sizeBytes - offset);
        segment.channel.truncate(offset);
        segment.sizeBytes = offset;
        bufferedSegment = null;
        dropped(DropReason.CORRUPT, 1);
    }

    /**
     * Adds a sample at the end; first drops samples older than {@code maxAge} and, if it would not fit
     * in {@code maxBytes}, the oldest.
     *
     * @return its index, or -1 if the disk refused it (counted as {@code write_error})
     */
    public synchronized long append(LatencySample sample) {
        requireOpen();
        byte[] payload = serde.encode(sample);
        int recordBytes = HEADER_BYTES + payload.length;
        dropExpired();
        while (liveRecords > 0 && liveBytes + recordBytes > maxBytes) {
            dropHead(DropReason.FULL);
        }
        CRC32C crc = new CRC32C();
        crc.update(payload);
        ByteBuffer record = ByteBuffer.allocate(recordBytes).putInt(payload.length).putInt((int) crc.getValue())
                .put(payload).flip();
        Segment active = null;
        try {
            active = segmentWithRoomFor(recordBytes);
            writeFully(active.channel, record, active.sizeBytes);
        } catch (IOException e) {
            discardPartialWrite(active);
            LOG.warn("spool {}: cannot write a sample: {}", directory, e.toString());
            dropped(DropReason.WRITE_ERROR, 1);
            return -1;
        }
        active.sizeBytes += recordBytes;
        liveRecords++;
        liveBytes += recordBytes;
        dataDirty = true;
        metrics.sampleSpooled();
        flushIfDue();
        return nextIndex++;
    }

    private void discardPartialWrite(Segment active) {
        if (active == null) {
            return;
        }
        try {
            active.channel.truncate(active.sizeBytes);
        } catch (IOException e) {
            LOG.warn("spool {}: cannot cut a partial write off {}: {}; the next start cuts it off", directory,
                    active.path.getFileName(), e.toString());
        }
    }

    private Segment segmentWithRoomFor(int recordBytes) throws IOException {
        Map.Entry<Long, Segment> last = segments.lastEntry();
        if (last != null && (last.getValue().sizeBytes == 0 || last.getValue().sizeBytes + recordBytes <= segmentBytes)) {
            return last.getValue();
        }
        if (last != null && dataDirty) {
            last.getValue().channel.force(false);
        }
        Path path = directory.resolve(String.format(Locale.ROOT, "%020d", nextIndex) + SEGMENT_SUFFIX);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        Segment segment = new Segment(nextIndex, path, channel, 0);
        segments.put(nextIndex, segment);
        cursorMoved();
        return segment;
    }

    /**
     * Up to {@code maxRecords} samples after the last one read, in order, skipping those already
     * acknowledged. Reading does not remove: only {@link #acknowledge} does.
     */
    public synchronized List<Entry> readNext(int maxRecords) {
        requireOpen();
        List<Entry> entries = new ArrayList<>();
        try {
            while (entries.size() < maxRecords) {
                readPosition = normalized(readPosition);
                Segment segment = segments.get(readPosition.segmentBase());
                if (segment == null || readPosition.offset() >= segment.sizeBytes) {
                    break;
                }
                byte[] payload;
                try {
                    payload = payload(segment, readPosition.offset());
                } catch (BadRecord bad) {
                    cutOff(segment, readPosition.offset(), bad);
                    rescan();
                    continue;
                }
                long index = readPosition.index();
                readPosition = new Position(segment.base, readPosition.offset() + HEADER_BYTES + payload.length,
                        index + 1);
                if (acknowledgedAhead.contains(index)) {
                    continue;
                }
                LatencySample sample = decode(index, payload);
                if (sample == null) {
                    acknowledgedAhead.add(index);
                    advanceCursor();
                } else {
                    entries.add(new Entry(index, sample));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("spool " + directory + ": cannot read", e);
        }
        return entries;
    }

    /** Reads again from the oldest unacknowledged sample, e.g. after a failed send. */
    public synchronized void rewind() {
        readPosition = cursor;
    }

    /**
     * Kafka acknowledged the sample at {@code index}: once every sample before it is acknowledged too,
     * the cursor passes it, and segments left behind are deleted. Unknown or old indexes are ignored
     * (e.g. a sample dropped while its send was in flight).
     */
    public synchronized void acknowledge(long index) {
        if (closed || index < cursor.index() || index >= nextIndex) {
            return;
        }
        acknowledgedAhead.add(index);
        advanceCursor();
        flushIfDue();
    }

    /** Drops samples whose scheduled start is more than {@code maxAge} ago, from the oldest on. */
    public synchronized void dropExpired() {
        requireOpen();
        long oldestAllowedMicros = nowMicros() - maxAgeMicros;
        while (liveRecords > 0) {
            LatencySample oldest = head();
            if (oldest != null && oldest.getScheduledStartMicros() >= oldestAllowedMicros) {
                return;
            }
            if (oldest != null) {
                dropHead(DropReason.AGE);
            }
        }
    }

    /** Samples not yet acknowledged. */
    public synchronized long depth() {
        return liveRecords - acknowledgedAhead.size();
    }

    /** Bytes from the oldest unacknowledged record to the end: what {@code maxBytes} limits. */
    public synchronized long bytes() {
        return liveBytes;
    }

    /** True when every spooled sample is acknowledged or dropped. */
    public synchronized boolean isEmpty() {
        return liveRecords == 0;
    }

    /** Seconds since the scheduled start of the oldest unacknowledged sample; 0 when empty. */
    public synchronized double oldestSampleAgeSeconds() {
        if (closed || liveRecords == 0) {
            return 0;
        }
        try {
            LatencySample oldest = head();
            return oldest == null ? 0 : Math.max(0, nowMicros() - oldest.getScheduledStartMicros()) / 1e6;
        } catch (UncheckedIOException e) {
            LOG.warn("spool {}: cannot read the oldest sample: {}", directory, e.getCause().toString());
            return 0;
        }
    }

    /** The sample at the cursor, decoded once per cursor position; null if it was undecodable (then dropped). */
    private LatencySample head() {
        if (headIndex != cursor.index()) {
            try {
                cursor = normalized(cursor);
                Segment segment = segments.get(cursor.segmentBase());
                byte[] payload = payload(segment, cursor.offset());
                long index = cursor.index();
                LatencySample sample = decode(index, payload);
                if (sample == null) {
                    dropHead(DropReason.CORRUPT, false);
                    return null;
                }
                head = sample;
                headIndex = index;
            } catch (BadRecord bad) {
                try {
                    cutOff(segments.get(cursor.segmentBase()), cursor.offset(), bad);
                    rescan();
                } catch (IOException e) {
                    throw new UncheckedIOException("spool " + directory + ": cannot cut off a bad record", e);
                }
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException("spool " + directory + ": cannot read", e);
            }
        }
        return head;
    }

    private LatencySample decode(long index, byte[] payload) {
        try {
            return serde.decode(payload);
        } catch (SerializationException e) {
            LOG.warn("spool {}: record {} passed its CRC but is not a sample ({}); dropping it", directory, index,
                    e.getMessage());
            dropped(DropReason.CORRUPT, 1);
            return null;
        }
    }

    private void dropHead(DropReason reason) {
        dropHead(reason, true);
    }

    private void dropHead(DropReason reason, boolean count) {
        try {
            cursor = normalized(cursor);
            long recordBytes = recordBytesAt(cursor);
            cursor = new Position(cursor.segmentBase(), cursor.offset() + recordBytes, cursor.index() + 1);
            liveRecords--;
            liveBytes -= recordBytes;
            cursorDirty = true;
            if (count) {
                dropped(reason, 1);
            }
            advanceCursor();
        } catch (IOException e) {
            throw new UncheckedIOException("spool " + directory + ": cannot drop the oldest sample", e);
        }
    }

    private void advanceCursor() {
        try {
            while (true) {
                cursor = normalized(cursor);
                if (!acknowledgedAhead.remove(cursor.index())) {
                    break;
                }
                long recordBytes = recordBytesAt(cursor);
                cursor = new Position(cursor.segmentBase(), cursor.offset() + recordBytes, cursor.index() + 1);
                liveRecords--;
                liveBytes -= recordBytes;
                cursorDirty = true;
            }
            cursorMoved();
        } catch (IOException e) {
            throw new UncheckedIOException("spool " + directory + ": cannot move the cursor", e);
        }
    }

    private void cursorMoved() throws IOException {
        cursor = normalized(cursor);
        if (readPosition != null && readPosition.before(cursor)) {
            readPosition = cursor;
        }
        deleteSegmentsBefore(cursor.segmentBase());
    }

    /** Past the end of a segment that has a successor means the start of the successor. */
    private Position normalized(Position position) {
        Segment segment = segments.get(position.segmentBase());
        while (segment != null && position.offset() >= segment.sizeBytes) {
            Map.Entry<Long, Segment> next = segments.higherEntry(segment.base);
            if (next == null) {
                break;
            }
            segment = next.getValue();
            position = new Position(segment.base, 0, segment.base);
        }
        return position;
    }

    private void deleteSegmentsBefore(long base) throws IOException {
        NavigableMap<Long, Segment> passed = segments.headMap(base, false);
        if (passed.isEmpty()) {
            return;
        }
        writeCursor();
        for (Segment segment : List.copyOf(passed.values())) {
            segment.channel.close();
            Files.deleteIfExists(segment.path);
            segments.remove(segment.base);
            if (bufferedSegment == segment) {
                bufferedSegment = null;
            }
        }
    }

    private long recordBytesAt(Position position) throws IOException {
        Segment segment = segments.get(position.segmentBase());
        ByteBuffer header = segment == null ? null : bytesAt(segment, position.offset(), HEADER_BYTES);
        if (header == null) {
            throw new IOException("no record at byte " + position.offset() + " of segment " + position.segmentBase());
        }
        return HEADER_BYTES + header.getInt(0);
    }

    /** The checked payload of the record at {@code offset}. */
    private byte[] payload(Segment segment, long offset) throws IOException, BadRecord {
        ByteBuffer header = bytesAt(segment, offset, HEADER_BYTES);
        if (header == null) {
            throw new BadRecord("a torn record header (" + (segment.sizeBytes - offset) + " of " + HEADER_BYTES
                    + " bytes)");
        }
        int length = header.getInt(0);
        int expectedCrc = header.getInt(4);
        if (length <= 0 || length > MAX_PAYLOAD_BYTES) {
            throw new BadRecord("a record length of " + length + " bytes, outside 1.." + MAX_PAYLOAD_BYTES);
        }
        ByteBuffer body = bytesAt(segment, offset + HEADER_BYTES, length);
        if (body == null) {
            throw new BadRecord("a torn record (" + (segment.sizeBytes - offset - HEADER_BYTES) + " of " + length
                    + " payload bytes)");
        }
        byte[] payload = new byte[length];
        body.get(payload);
        CRC32C crc = new CRC32C();
        crc.update(payload);
        if ((int) crc.getValue() != expectedCrc) {
            throw new BadRecord("a record whose CRC does not match its " + length + " bytes");
        }
        return payload;
    }

    /** {@code length} bytes of {@code segment} from {@code offset}, or null if the segment ends first. */
    private ByteBuffer bytesAt(Segment segment, long offset, int length) throws IOException {
        if (offset + length > segment.sizeBytes) {
            return null;
        }
        if (length > READ_BUFFER_BYTES) {
            ByteBuffer large = ByteBuffer.allocate(length);
            readFully(segment.channel, large, offset);
            return large.flip();
        }
        if (bufferedSegment != segment || offset < bufferedOffset
                || offset + length > bufferedOffset + readBuffer.limit()) {
            readBuffer.clear().limit((int) Math.min(READ_BUFFER_BYTES, segment.sizeBytes - offset));
            readFully(segment.channel, readBuffer, offset);
            readBuffer.flip();
            bufferedSegment = segment;
            bufferedOffset = offset;
        }
        return readBuffer.slice((int) (offset - bufferedOffset), length);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position);
            if (read < 0) {
                throw new EOFException("segment shorter than recorded");
            }
            position += read;
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    /**
     * Forces appended records to the device and saves the cursor if a second has passed since the
     * last time; {@link #append} and {@link #acknowledge} call it, and the spool sender when idle.
     */
    public synchronized void flushIfDue() {
        if (closed || System.nanoTime() - lastSyncNanos < SYNC_INTERVAL_NANOS) {
            return;
        }
        try {
            flush();
        } catch (IOException e) {
            LOG.warn("spool {}: cannot flush: {}", directory, e.toString());
        }
        lastSyncNanos = System.nanoTime();
    }

    private void flush() throws IOException {
        if (dataDirty && !segments.isEmpty()) {
            segments.lastEntry().getValue().channel.force(false);
            dataDirty = false;
        }
        if (cursorDirty) {
            writeCursor();
        }
    }

    /** {@code index segmentBase offset}, written beside and renamed over the old one, so a crash leaves one or the other. */
    private void writeCursor() throws IOException {
        Path file = directory.resolve(CURSOR_FILE);
        Path next = directory.resolve(CURSOR_FILE + ".next");
        byte[] line = (cursor.index() + " " + cursor.segmentBase() + " " + cursor.offset() + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (FileChannel channel = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(channel, ByteBuffer.wrap(line), 0);
            channel.force(true);
        }
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        cursorDirty = false;
    }

    private void dropped(DropReason reason, long count) {
        metrics.spoolDropped(reason, count);
        long unlogged = unloggedDrops.merge(reason, count, Long::sum);
        long now = System.nanoTime();
        Long last = lastDropLogNanos.get(reason);
        if (last == null || now - last >= DROP_LOG_INTERVAL_NANOS) {
            String why = switch (reason) {
                case FULL -> "the spool is full (maxBytes " + maxBytes + "): dropped the oldest";
                case AGE -> "older than maxAge " + Durations.format(Duration.ofNanos(maxAgeMicros * 1_000)) + ": dropped";
                case CORRUPT -> "unreadable: dropped";
                case WRITE_ERROR -> "the disk refused the write: dropped";
            };
            LOG.warn("spool {}: {} {} samples{}, counted in tailprobe_agent_spool_samples_dropped_total{reason=\"{}\"} "
                            + "(logged at most once a minute)", directory, why, unlogged,
                    last == null ? "" : " in the last minute", reason.label());
            lastDropLogNanos.put(reason, now);
            unloggedDrops.put(reason, 0L);
        }
    }

    private long nowMicros() {
        return TimeUnit.MILLISECONDS.toMicros(clock.millis());
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("spool " + directory + " is closed");
        }
    }

    /** Saves the cursor, forces the data and releases the directory to the next agent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            cursorDirty = true;
            flush();
        } catch (IOException e) {
            LOG.warn("spool {}: cannot save the cursor on close: {}; samples acknowledged in the last second may "
                    + "be sent again", directory, e.toString());
        } finally {
            closed = true;
            closeFiles();
        }
    }

    private void closeFiles() {
        for (Segment segment : segments.values()) {
            try {
                segment.channel.close();
            } catch (IOException e) {
                LOG.debug("closing {}", segment.path, e);
            }
        }
        try {
            lockChannel.close();
        } catch (IOException e) {
            LOG.debug("closing the lock of {}", directory, e);
        }
    }
}
