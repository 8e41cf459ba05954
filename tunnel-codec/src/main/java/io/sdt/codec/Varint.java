package io.sdt.codec;

import io.netty.buffer.ByteBuf;

/**
 * Unsigned LEB128 varints limited to four bytes (28 bits), used for lengths, channel ids, tunnel
 * ids and window increments. Seven bits per byte, least significant group first, high bit set on
 * every byte but the last.
 */
public final class Varint {

    /** The largest value a four-byte varint holds: 2^28 - 1. */
    public static final int MAX_VALUE = (1 << 28) - 1;
    /** The longest encoding in bytes. */
    public static final int MAX_BYTES = 4;

    private Varint() {
    }

    /** Bytes needed to encode {@code value}, 1 to 4. */
    public static int size(int value) {
        checkRange(value);
        if (value < (1 << 7)) {
            return 1;
        }
        if (value < (1 << 14)) {
            return 2;
        }
        return value < (1 << 21) ? 3 : 4;
    }

    public static void write(ByteBuf out, int value) {
        checkRange(value);
        while (value >= 0x80) {
            out.writeByte((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.writeByte(value);
    }

    /**
     * Reads a varint that must be complete within {@code in}'s readable bytes.
     *
     * @throws FrameException {@code BAD_VARINT} if the bytes run out or a fifth byte would be needed
     */
    public static int read(ByteBuf in, String field) {
        int value = 0;
        for (int i = 0; i < MAX_BYTES; i++) {
            if (!in.isReadable()) {
                throw new FrameException(FrameException.Reason.BAD_VARINT, field + " is truncated");
            }
            int b = in.readUnsignedByte();
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new FrameException(FrameException.Reason.BAD_VARINT, field + " is longer than " + MAX_BYTES + " bytes");
    }

    /**
     * Peeks at a varint at {@code in.readerIndex()} without moving it, for length prefixes that may
     * not have fully arrived yet.
     *
     * @return the value in the low 32 bits and the encoded size in the high 32 bits, or -1 if more
     *         bytes are needed
     * @throws FrameException {@code BAD_VARINT} if the encoding would exceed four bytes
     */
    public static long peek(ByteBuf in, String field) {
        int index = in.readerIndex();
        int limit = in.writerIndex();
        int value = 0;
        for (int i = 0; i < MAX_BYTES; i++) {
            if (index + i >= limit) {
                return -1;
            }
            int b = in.getUnsignedByte(index + i);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                return ((long) (i + 1) << 32) | value;
            }
        }
        throw new FrameException(FrameException.Reason.BAD_VARINT, field + " is longer than " + MAX_BYTES + " bytes");
    }

    private static void checkRange(int value) {
        if (value < 0 || value > MAX_VALUE) {
            throw new IllegalArgumentException("varint out of range [0, " + MAX_VALUE + "]: " + value);
        }
    }
}
