package io.sdt.core.tunnel.push.spool;

import io.sdt.core.tunnel.push.spool.DurableSpool.Fsync;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DurableSpoolTest {

    @TempDir
    Path dir;

    private DurableSpool open() {
        return DurableSpool.open(dir, 1 << 20, 1024, Fsync.ALWAYS, 0);
    }

    private static ByteBuffer record(int i) {
        return ByteBuffer.wrap(("record " + i + " " + "x".repeat(i % 50) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b).toString();
    }

    /** Every record the reader gives from {@code after} on, as text. */
    private static List<String> readAll(DurableSpool s, long after) {
        List<String> out = new ArrayList<>();
        DurableSpool.Reader r = s.readAfter(after);
        for (ByteBuffer b; (b = r.next()) != null; ) {
            out.add(text(b));
        }
        return out;
    }

    private static List<String> expected(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add(text(record(i)));
        }
        return out;
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        }
    }

    @Test
    void recordsGetIncreasingSequencesAndComeBackInOrderAcrossSegments() throws Exception {
        try (DurableSpool s = open()) {
            for (int i = 1; i <= 100; i++) {
                assertEquals(i, s.append(record(i)));
            }
            s.sync();
            assertTrue(s.segmentCount() > 3, "1 KiB segments: " + s.segmentCount());
            assertEquals(expected(1, 100), readAll(s, 0));
            assertEquals(expected(41, 100), readAll(s, 40));
            assertEquals(100, s.pending());
        }
    }

    @Test
    void aReaderSeesLaterAppendsAndAcknowledgedSegmentsAreDeleted() throws Exception {
        try (DurableSpool s = open()) {
            DurableSpool.Reader r = s.readAfter(0);
            assertNull(r.next());
            for (int i = 1; i <= 60; i++) {
                s.append(record(i));
                assertEquals(text(record(i)), text(r.next()));
            }
            int before = segments().size();
            s.ack(50);
            assertTrue(segments().size() < before, "wholly acknowledged segments are deleted");
            assertEquals(expected(51, 60), readAll(s, 0), "only what is unacknowledged remains");
            assertEquals(10, s.pending());
            s.ack(20); // an old acknowledgement crossing a newer one changes nothing
            assertEquals(50, s.acked());
            assertThrows(IllegalArgumentException.class, () -> s.ack(61), "a sequence never appended");
        }
    }

    @Test
    void aReopenedSpoolResendsTheUnacknowledgedAndKeepsNumbering() {
        String id;
        try (DurableSpool s = open()) {
            id = s.id();
            for (int i = 1; i <= 30; i++) {
                s.append(record(i));
            }
            s.ack(12);
        }
        try (DurableSpool s = open()) {
            assertEquals(id, s.id(), "the same spool after a restart");
            assertEquals(12, s.acked());
            assertEquals(expected(13, 30), readAll(s, s.acked()));
            assertEquals(31, s.append(record(31)));
            assertEquals(0, s.recoveredPartial() + s.recoveredCorrupt());
        }
        try (DurableSpool other = DurableSpool.open(dir.resolve("other"), 1 << 20, 1024, Fsync.NEVER, 0)) {
            assertNotEquals(id, other.id(), "a new directory is a new spool");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 8, 9, 20})
    void aCrashMidAppendLosesOnlyThePartialRecord(int cut) throws Exception {
        try (DurableSpool s = open()) {
            for (int i = 1; i <= 25; i++) {
                s.append(record(i));
            }
        }
        Path last = segments().getLast();
        long size = Files.size(last);
        int lastLength = record(25).remaining() + DurableSpool.HEADER;
        try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
            ch.truncate(size - lastLength + Math.min(cut, lastLength - 1)); // record 25 cut after `cut` bytes
        }
        try (DurableSpool s = open()) {
            assertEquals(1, s.recoveredPartial());
            assertEquals(expected(1, 24), readAll(s, 0), "everything before the partial record survives");
            assertEquals(25, s.append(record(99)), "the partial record's number is given to the next");
            assertEquals(text(record(99)), readAll(s, 24).getFirst());
        }
    }

    @Test
    void aRandomCrashPointNeverLosesAWholeRecord() throws Exception {
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            Path d = dir.resolve("r" + round);
            int n = 1 + random.nextInt(40);
            try (DurableSpool s = DurableSpool.open(d, 1 << 20, 1 << 16, Fsync.NEVER, 0)) {
                for (int i = 1; i <= n; i++) {
                    s.append(record(i));
                }
            }
            Path seg;
            try (Stream<Path> files = Files.list(d)) {
                seg = files.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
            }
            long size = Files.size(seg);
            long cutAt = random.nextLong(size + 1);
            try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
                ch.truncate(cutAt);
            }
            long whole = 0;
            long pos = 0;
            for (int i = 1; i <= n; i++) {
                pos += DurableSpool.HEADER + record(i).remaining();
                if (pos <= cutAt) {
                    whole = i;
                }
            }
            try (DurableSpool s = DurableSpool.open(d, 1 << 20, 1 << 16, Fsync.NEVER, 0)) {
                assertEquals(expected(1, (int) whole), readAll(s, 0), "cut at " + cutAt + " of " + size);
                assertEquals(pos(whole) == cutAt ? 0 : 1, s.recoveredPartial(), "cut at " + cutAt);
            }
        }
    }

    private static long pos(long records) {
        long p = 0;
        for (int i = 1; i <= records; i++) {
            p += DurableSpool.HEADER + record(i).remaining();
        }
        return p;
    }

    @Test
    void aCorruptRecordCutsItsSegmentThereAndTheRestSurvives() throws Exception {
        try (DurableSpool s = open()) {
            for (int i = 1; i <= 60; i++) {
                s.append(record(i));
            }
        }
        List<Path> segs = segments();
        assertTrue(segs.size() >= 3);
        Path middle = segs.get(1);
        long firstOfMiddle = Long.parseLong(middle.getFileName().toString().replace(".seg", ""));
        long firstOfNext = Long.parseLong(segs.get(2).getFileName().toString().replace(".seg", ""));
        // flip a payload byte of the middle segment's second record
        long at = DurableSpool.HEADER + record((int) firstOfMiddle).remaining() + DurableSpool.HEADER + 2;
        try (FileChannel ch = FileChannel.open(middle, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x55)}), at);
        }
        try (DurableSpool s = open()) {
            assertEquals(1, s.recoveredCorrupt());
            List<String> got = readAll(s, 0);
            List<String> want = new ArrayList<>(expected(1, (int) firstOfMiddle));
            want.addAll(expected((int) firstOfNext, 60));
            assertEquals(want, got, "only the corrupt record and what followed it in its segment are gone");
            assertEquals(61, s.append(record(61)));
        }
    }

    @Test
    void aFullSpoolRefusesAndTakesAgainOnceAcknowledged() {
        try (DurableSpool s = DurableSpool.open(dir, 2048, 1024, Fsync.INTERVAL, 1_000_000_000L)) {
            long seq;
            int appended = 0;
            while ((seq = s.append(record(appended + 1))) > 0) {
                appended++;
                assertEquals(appended, seq);
            }
            assertTrue(appended > 10 && s.bytes() <= 2048, appended + " records, " + s.bytes() + " bytes");
            s.ack(appended - 1);
            assertTrue(s.append(record(1)) > 0, "room again once acknowledged");
        }
    }

    @Test
    void anUnusableDirectoryIsAClearError() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        SpoolException notADir = assertThrows(SpoolException.class,
                () -> DurableSpool.open(file, 1 << 20, 1024, Fsync.NEVER, 0));
        assertTrue(notADir.getMessage().contains(file.toString()), notADir.getMessage());

        Files.writeString(dir.resolve("spool.id"), "not an id\n");
        SpoolException badId = assertThrows(SpoolException.class, this::open);
        assertTrue(badId.getMessage().contains("spool.id"), badId.getMessage());

        SpoolException cannotCreate = assertThrows(SpoolException.class,
                () -> DurableSpool.open(Path.of("/proc/sdt-spool-test"), 1 << 20, 1024, Fsync.NEVER, 0));
        assertTrue(cannotCreate.getMessage().contains("/proc/sdt-spool-test"), cannotCreate.getMessage());

        assumeTrue(!"root".equals(System.getProperty("user.name")), "root may write anywhere");
        Path locked = Files.createDirectory(dir.resolve("locked"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r-xr-xr-x")));
        SpoolException readOnly = assertThrows(SpoolException.class,
                () -> DurableSpool.open(locked, 1 << 20, 1024, Fsync.NEVER, 0));
        assertTrue(readOnly.getMessage().contains("not writable"), readOnly.getMessage());
    }
}
