package io.sdt.core.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Per durable push spool (by its 16-byte identity), the highest record this node's egress has
 * delivered to the target: what lets an egress drop a record it already delivered when the ingress
 * sends it again.
 *
 * <p>Without a directory the marks live in memory and outlive links, not the process. With one
 * ({@code push.spool_dir}) they are kept in a memory-mapped file of {@value #SLOTS} slots
 * ({@code [spool id 16][sequence 8]} each) that is created and mapped when the node starts: an
 * update is a store into the mapping, no system call on the event loop, and the page cache keeps it
 * when the process is killed, so a restarted egress does not deliver again what its predecessor had
 * delivered. A mark follows a write's completion, so a write the kernel took in the instant the process
 * died is delivered twice, and a power loss may lose the last updates: delivery stays at least once.
 * When every slot is taken, the least recently updated one is reused. Thread-safe.
 */
public final class DeliveredMarks {

    static final int SLOTS = 4096;
    private static final int SLOT = 24;

    private final MappedByteBuffer file;
    private final Map<String, Integer> slotOf = new HashMap<>();
    private final Map<String, Long> inMemory = new HashMap<>();
    private final long[] touched = new long[SLOTS];
    private long clock;

    private DeliveredMarks(MappedByteBuffer file) {
        this.file = file;
        if (file != null) {
            HexFormat hex = HexFormat.of();
            byte[] id = new byte[16];
            for (int i = 0; i < SLOTS; i++) {
                file.get(i * SLOT, id);
                long seq = file.getLong(i * SLOT + 16);
                if (seq > 0) {
                    slotOf.put(hex.formatHex(id), i);
                    touched[i] = ++clock;
                }
            }
        }
    }

    /** Marks kept in memory only. */
    public static DeliveredMarks inMemory() {
        return new DeliveredMarks(null);
    }

    /**
     * Marks kept in {@code dir/delivered.marks}, created if need be; call on the thread that starts the node.
     *
     * @throws UncheckedIOException when the directory or the file cannot be made
     */
    public static DeliveredMarks in(Path dir) {
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(dir.resolve("delivered.marks"), StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                return new DeliveredMarks(ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) SLOTS * SLOT));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("push state directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The highest sequence delivered for spool {@code id} (hex), or 0. */
    public synchronized long get(String id) {
        if (file == null) {
            return inMemory.getOrDefault(id, 0L);
        }
        Integer slot = slotOf.get(id);
        return slot == null ? 0 : file.getLong(slot * SLOT + 16);
    }

    /** Record {@code seq} of spool {@code id} (hex) was delivered; marks only move forward. */
    public synchronized void advance(String id, long seq) {
        if (file == null) {
            inMemory.merge(id, seq, Math::max);
            return;
        }
        Integer slot = slotOf.get(id);
        if (slot == null) {
            slot = freeSlot();
            slotOf.values().remove(slot);
            file.put(slot * SLOT, HexFormat.of().parseHex(id));
            file.putLong(slot * SLOT + 16, 0);
            slotOf.put(id, slot);
        }
        touched[slot] = ++clock;
        if (seq > file.getLong(slot * SLOT + 16)) {
            file.putLong(slot * SLOT + 16, seq);
        }
    }

    private int freeSlot() {
        int oldest = 0;
        for (int i = 0; i < SLOTS; i++) {
            if (touched[i] == 0) {
                return i;
            }
            if (touched[i] < touched[oldest]) {
                oldest = i;
            }
        }
        return oldest;
    }
}
