package io.sdt.core.tunnel.push.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * The ingress's durable push spool: an append-only log of records on disk, numbered by sequence, from
 * which records are deleted only once the far side has acknowledged them. The layout of its directory:
 * <pre>
 *   spool.id                    16 random bytes, hex: who this spool is (the egress keys its dedupe by it)
 *   acked                       8 bytes, big-endian: the highest sequence acknowledged so far
 *   00000000000000000001.seg    segment files, named by the sequence of their first record
 * </pre>
 * A record in a segment is {@code [u32 length][u32 CRC-32C of the payload][payload]}; its sequence is
 * the segment's first plus its index. A segment is closed for appends at {@code segmentBytes} and
 * deleted when every record in it is acknowledged.
 *
 * <p>Recovery ({@link #open}) reads every segment. A record cut short at the end of the last segment
 * (a crash mid-append) is discarded, counted ({@link #recoveredPartial()}) and the file truncated
 * there; appends continue after it. A record whose checksum fails, or a length no record can have,
 * means the rest of that segment cannot be framed: it is discarded and counted
 * ({@link #recoveredCorrupt()}), and the segment ends there. Nothing before it is lost.
 *
 * <p>Durability ({@link Fsync}): {@code always} forces the segment to disk in {@link #sync()} (call it
 * once per batch of appends, before the batch is acknowledged to anyone); {@code interval} forces in
 * {@link #sync()} only when {@code intervalNanos} has passed since the last force; {@code never} leaves
 * it to the operating system. Every policy survives a killed process (the page cache outlives it);
 * they differ on a power loss.
 *
 * <p>Not thread-safe, and it blocks on disk: use it from one thread that is not an event loop.
 */
public final class DurableSpool implements AutoCloseable {

    /** When appended records are forced to the disk. */
    public enum Fsync { ALWAYS, INTERVAL, NEVER }

    static final int HEADER = Segment.HEADER;
    static final int MAX_RECORD = Segment.MAX_RECORD;
    private static final String SUFFIX = ".seg";

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final Fsync fsync;
    private final long intervalNanos;
    private final String id;
    private final FileChannel ackedFile;
    /** Every segment by its first sequence; the last is the one appended to. */
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private long acked;
    private long nextSeq;
    private long bytes;
    private long lastForce = System.nanoTime();
    private boolean dirty;
    private long recoveredPartial;
    private long recoveredCorrupt;

    private DurableSpool(Path dir, long maxBytes, long segmentBytes, Fsync fsync, long intervalNanos,
                         String id, FileChannel ackedFile) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.fsync = fsync;
        this.intervalNanos = intervalNanos;
        this.id = id;
        this.ackedFile = ackedFile;
    }

    /**
     * Opens (creating if need be) the spool in {@code dir} and recovers what it holds.
     *
     * @throws SpoolException with a clear message when the directory cannot be created, read or written
     */
    public static DurableSpool open(Path dir, long maxBytes, long segmentBytes, Fsync fsync, long intervalNanos) {
        if (segmentBytes < HEADER + 1 || maxBytes < segmentBytes) {
            throw new IllegalArgumentException("need 0 < segmentBytes <= maxBytes");
        }
        try {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) {
                throw new SpoolException("spool directory " + dir + " is not writable");
            }
            String id = identity(dir);
            FileChannel ackedFile = FileChannel.open(dir.resolve("acked"), StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
            DurableSpool s = new DurableSpool(dir, maxBytes, segmentBytes, fsync, intervalNanos, id, ackedFile);
            s.recover();
            return s;
        } catch (IOException e) {
            throw new SpoolException("spool directory " + dir + ": " + e, e);
        }
    }

    /**
     * Checks, without opening the spool, that {@code dir} can hold one: it exists or can be created, and
     * can be written. For a clear error at start rather than a tunnel that fails later.
     */
    public static void check(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SpoolException("spool directory " + dir + " cannot be created: " + e, e);
        }
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new SpoolException("spool directory " + dir + " is not writable");
        }
        Path probe = dir.resolve(".write-test");
        try {
            Files.deleteIfExists(probe);
            Files.createFile(probe);
            Files.delete(probe);
        } catch (IOException e) {
            throw new SpoolException("spool directory " + dir + " is not writable: " + e, e);
        }
    }

    private static String identity(Path dir) throws IOException {
        Path file = dir.resolve("spool.id");
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (text.matches("[0-9a-f]{32}")) {
                return text;
            }
            throw new SpoolException(file + " is not a spool identity (32 hex digits): remove the directory to start afresh");
        } catch (NoSuchFileException e) {
            byte[] b = new byte[16];
            new SecureRandom().nextBytes(b);
            String text = HexFormat.of().formatHex(b);
            Path tmp = dir.resolve("spool.id.tmp");
            Files.writeString(tmp, text + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return text;
        }
    }

    private void recover() throws IOException {
        ByteBuffer a = ByteBuffer.allocate(8);
        if (ackedFile.read(a, 0) == 8) {
            acked = a.flip().getLong();
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            ds.forEach(files::add);
        }
        files.sort(null);
        nextSeq = acked + 1;
        boolean cutShort = false; // the segment before lost its tail to corruption: a gap may follow
        for (int i = 0; i < files.size(); i++) {
            Path p = files.get(i);
            String name = p.getFileName().toString();
            long first;
            try {
                first = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
            } catch (NumberFormatException e) {
                throw new SpoolException("unexpected file " + p + " in the spool directory");
            }
            FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
            Segment seg = new Segment(first, p, ch);
            long corruptBefore = recoveredCorrupt;
            switch (seg.recover()) {
                case CLEAN -> { }
                case PARTIAL -> { // a record cut short can only be the crash's, at the end of the last segment
                    if (i == files.size() - 1) {
                        recoveredPartial++;
                    } else {
                        recoveredCorrupt++;
                    }
                }
                case CORRUPT -> recoveredCorrupt++;
            }
            if (seg.end() - 1 <= acked || seg.records == 0 && i < files.size() - 1) {
                ch.close();
                Files.delete(p); // acknowledged before the restart, or empty
                continue;
            }
            if (!segments.isEmpty() && segments.lastEntry().getValue().end() != first && !cutShort) {
                throw new SpoolException("spool segments " + segments.lastEntry().getValue().path + " and " + p
                        + " are not contiguous: the directory was changed by hand");
            }
            cutShort = corruptBefore != recoveredCorrupt;
            segments.put(first, seg);
            bytes += seg.size;
            nextSeq = Math.max(nextSeq, seg.end());
        }
    }

    /** Who this spool is: stable across restarts, new when the directory is new. */
    public String id() {
        return id;
    }

    /**
     * Appends one record.
     *
     * @return its sequence, or {@code -1} when the spool is full ({@code maxBytes}); nothing is written then
     */
    public long append(ByteBuffer record) {
        int length = record.remaining();
        if (length <= 0 || length > MAX_RECORD) {
            throw new IllegalArgumentException("record of " + length + " bytes");
        }
        long need = HEADER + length;
        if (bytes + need > maxBytes) {
            return -1;
        }
        try {
            Segment seg = segments.isEmpty() ? null : segments.lastEntry().getValue();
            if (seg == null || seg.size > 0 && seg.size + need > segmentBytes) {
                seg = newSegment(nextSeq);
            }
            seg.append(record);
            bytes += need;
            dirty = true;
            return nextSeq++;
        } catch (IOException e) {
            throw new UncheckedIOException("appending to the spool in " + dir, e);
        }
    }

    private Segment newSegment(long first) throws IOException {
        Path p = dir.resolve(String.format("%020d", first) + SUFFIX);
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        Segment seg = new Segment(first, p, ch);
        Segment previous = segments.isEmpty() ? null : segments.lastEntry().getValue();
        segments.put(first, seg);
        if (previous != null && fsync != Fsync.NEVER) {
            previous.channel.force(false); // a closed segment is complete on disk before the next begins
        }
        return seg;
    }

    /**
     * Makes the appends so far as durable as the policy says; call it once per batch, before the batch
     * is acknowledged to a producer. Returns true if it forced the disk.
     */
    public boolean sync() {
        if (!dirty || fsync == Fsync.NEVER) {
            return false;
        }
        long now = System.nanoTime();
        if (fsync == Fsync.INTERVAL && now - lastForce < intervalNanos) {
            return false;
        }
        try {
            segments.lastEntry().getValue().channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("forcing the spool in " + dir + " to disk", e);
        }
        dirty = false;
        lastForce = now;
        return true;
    }

    /**
     * The far side has delivered every record up to {@code seq}: segments wholly acknowledged are deleted.
     *
     * @throws IllegalArgumentException for a sequence never appended (a protocol error of the peer)
     */
    public void ack(long seq) {
        if (seq >= nextSeq) {
            throw new IllegalArgumentException("acknowledgement of " + seq + ", but the last record appended is "
                    + (nextSeq - 1));
        }
        if (seq <= acked) {
            return; // an old acknowledgement, crossed by a newer one
        }
        acked = seq;
        try {
            ackedFile.write(ByteBuffer.allocate(8).putLong(0, seq), 0);
            if (fsync == Fsync.ALWAYS) {
                ackedFile.force(false);
            }
            while (!segments.isEmpty()) {
                Segment first = segments.firstEntry().getValue();
                if (first.end() - 1 > acked || first.records == 0) {
                    break; // the next append to an emptied spool starts a new segment
                }
                segments.pollFirstEntry();
                bytes -= first.size;
                first.channel.close();
                Files.deleteIfExists(first.path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("acknowledging " + seq + " in the spool in " + dir, e);
        }
    }

    /**
     * The records after {@code seq} that are still in the spool, in order, read from disk: what to
     * resend after a reconnect (from {@link #acked()}) or to send next. The reader sees appends made
     * after it was created.
     */
    public Reader readAfter(long seq) {
        return new Reader(Math.max(seq, acked) + 1);
    }

    /** Reads records in sequence order; valid while the spool is open. */
    public final class Reader {
        private long next;
        /** The segment the cursor is in ({@code -1}: none yet) and the file offset of record {@link #next}. */
        private long segmentFirst = -1;
        private long offset;

        private Reader(long next) {
            this.next = next;
        }

        /** The sequence the next {@link #next()} returns. */
        public long position() {
            return next;
        }

        /** The next record, or {@code null} if it has not been appended yet. */
        public ByteBuffer next() {
            if (next < acked + 1) {
                next = acked + 1; // acknowledged meanwhile: skip what was deleted
                segmentFirst = -1;
            }
            var e = segments.floorEntry(next);
            if (e != null && next >= e.getValue().end()) {
                e = segments.higherEntry(next); // a gap left by a corrupt segment: go on after it
                if (e != null) {
                    next = e.getKey();
                }
            }
            if (e == null || next >= e.getValue().end()) {
                return null;
            }
            Segment seg = e.getValue();
            try {
                if (segmentFirst != seg.first) { // entering a segment: find the record's offset once
                    segmentFirst = seg.first;
                    offset = 0;
                    for (long s = seg.first; s < next; s++) {
                        offset += HEADER + seg.lengthAt(offset);
                    }
                }
                int length = seg.lengthAt(offset);
                ByteBuffer payload = seg.payloadAt(offset, length);
                offset += HEADER + length;
                next++;
                return payload;
            } catch (IOException ex) {
                throw new UncheckedIOException("reading the spool in " + dir, ex);
            }
        }
    }

    /** The highest sequence acknowledged (0 before the first). */
    public long acked() {
        return acked;
    }

    /** The sequence the next append gets. */
    public long nextSequence() {
        return nextSeq;
    }

    /** Records appended and not yet acknowledged. */
    public long pending() {
        return nextSeq - 1 - acked;
    }

    /** Bytes on disk in segment files (headers included). */
    public long bytes() {
        return bytes;
    }

    public long recoveredPartial() {
        return recoveredPartial;
    }

    public long recoveredCorrupt() {
        return recoveredCorrupt;
    }

    int segmentCount() {
        return segments.size();
    }

    @Override
    public void close() {
        try {
            if (fsync != Fsync.NEVER && dirty && !segments.isEmpty()) {
                segments.lastEntry().getValue().channel.force(false);
            }
            for (Segment s : segments.values()) {
                s.channel.close();
            }
            ackedFile.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the spool in " + dir, e);
        }
    }
}
