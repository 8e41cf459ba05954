package io.sdt.core.tunnel.push.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * One segment file of a {@link DurableSpool} and the one place that knows its record format:
 * {@code [u32 length][u32 CRC-32C of the payload][payload]}, records back to back. The records are
 * numbered from {@link #first}. Not thread-safe: the spool's thread only.
 */
final class Segment {

    static final int HEADER = 8;
    /** No record is longer than this (the ingress's {@code record=} is far below it). */
    static final int MAX_RECORD = 64 << 20;

    /** How a {@link #recover} ended. */
    enum Tail { CLEAN, PARTIAL, CORRUPT }

    final long first;
    final Path path;
    final FileChannel channel;
    /** Whole records in the file, and the bytes they take. */
    long records;
    long size;

    Segment(long first, Path path, FileChannel channel) {
        this.first = first;
        this.path = path;
        this.channel = channel;
    }

    /** The sequence after this segment's last record. */
    long end() {
        return first + records;
    }

    /**
     * Counts the whole records of a file written before a restart and cuts it after the last good
     * one: a header or payload cut short is PARTIAL, a length no record can have or a checksum that
     * fails is CORRUPT (nothing after it can be framed).
     */
    Tail recover() throws IOException {
        long fileSize = channel.size();
        long pos = 0;
        Tail tail = Tail.CLEAN;
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        CRC32C crc = new CRC32C();
        while (pos < fileSize) {
            header.clear();
            if (readFully(header, pos) < HEADER) {
                tail = Tail.PARTIAL;
                break;
            }
            int length = header.flip().getInt();
            int sum = header.getInt();
            if (length <= 0 || length > MAX_RECORD) {
                tail = Tail.CORRUPT;
                break;
            }
            if (pos + HEADER + length > fileSize) {
                tail = Tail.PARTIAL;
                break;
            }
            ByteBuffer payload = ByteBuffer.allocate(length);
            readFully(payload, pos + HEADER);
            crc.reset();
            crc.update(payload.flip());
            if ((int) crc.getValue() != sum) {
                tail = Tail.CORRUPT;
                break;
            }
            pos += HEADER + length;
            records++;
        }
        if (pos < fileSize) {
            channel.truncate(pos);
            channel.force(true);
        }
        size = pos;
        return tail;
    }

    /** Writes {@code record} (its remaining bytes) after the last one. */
    void append(ByteBuffer record) throws IOException {
        int length = record.remaining();
        CRC32C crc = new CRC32C();
        crc.update(record.duplicate());
        ByteBuffer header = ByteBuffer.allocate(HEADER).putInt(length).putInt((int) crc.getValue()).flip();
        writeFully(header, size);
        writeFully(record, size + HEADER);
        size += HEADER + length;
        records++;
    }

    /** The length of the record that starts at {@code offset}. */
    int lengthAt(long offset) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        readFully(header, offset);
        return header.flip().getInt();
    }

    /** The payload of the record of {@code length} bytes that starts at {@code offset}. */
    ByteBuffer payloadAt(long offset, int length) throws IOException {
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(payload, offset + HEADER);
        return payload.flip();
    }

    private int readFully(ByteBuffer into, long at) throws IOException {
        int total = 0;
        while (into.hasRemaining()) {
            int n = channel.read(into, at + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    private void writeFully(ByteBuffer from, long at) throws IOException {
        long pos = at;
        while (from.hasRemaining()) {
            pos += channel.write(from, pos);
        }
    }
}
