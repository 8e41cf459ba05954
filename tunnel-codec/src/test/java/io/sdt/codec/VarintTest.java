package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.sdt.codec.FrameException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class VarintTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "0, 00",
        "1, 01",
        "127, 7f",
        "128, 8001",
        "300, ac02",
        "16383, ff7f",
        "16384, 808001",
        "2097151, ffff7f",
        "2097152, 80808001",
        "268435455, ffffff7f"})
    void encodings(int value, String hex) {
        ByteBuf b = guard.writable(8);
        try {
            Varint.write(b, value);
            assertEquals(hex, ByteBufUtil.hexDump(b));
            assertEquals(hex.length() / 2, Varint.size(value));
            assertEquals(value, Varint.read(b, "v"));
            assertEquals(0, b.readableBytes());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest
    @CsvSource({"0, 1", "127, 1", "128, 2", "16383, 2", "16384, 3", "2097151, 3", "2097152, 4", "268435455, 4"})
    void sizeBoundaries(int value, int size) {
        assertEquals(size, Varint.size(value));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, Integer.MIN_VALUE, Varint.MAX_VALUE + 1, Integer.MAX_VALUE})
    void outOfRange(int value) {
        assertThrows(IllegalArgumentException.class, () -> Varint.size(value));
        ByteBuf b = guard.writable(8);
        try {
            assertThrows(IllegalArgumentException.class, () -> Varint.write(b, value));
            assertEquals(0, b.writerIndex());
        } finally {
            b.release();
        }
    }

    @Test
    void constants() {
        assertEquals((1 << 28) - 1, Varint.MAX_VALUE);
        assertEquals(4, Varint.MAX_BYTES);
    }

    @Test
    void sizeMatchesWrittenBytesForRandomValues() {
        SplittableRandom random = new SplittableRandom(7);
        ByteBuf b = guard.writable(4 * 10_000);
        try {
            int[] values = new int[10_000];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextInt(Varint.MAX_VALUE + 1) >>> random.nextInt(28);
                int before = b.writerIndex();
                Varint.write(b, values[i]);
                assertEquals(Varint.size(values[i]), b.writerIndex() - before, "value " + values[i]);
            }
            for (int value : values) {
                assertEquals(value, Varint.read(b, "v"));
            }
        } finally {
            b.release();
        }
    }

    @Test
    void readTruncated() {
        ByteBuf b = guard.buffer(Wire.hex("ff ff"));
        try {
            FrameException e = assertThrows(FrameException.class, () -> Varint.read(b, "channel id"));
            assertEquals(Reason.BAD_VARINT, e.reason());
            assertEquals("BAD_VARINT: channel id is truncated", e.getMessage());
        } finally {
            b.release();
        }
    }

    @Test
    void readEmpty() {
        ByteBuf b = guard.pattern(0);
        try {
            assertEquals(Reason.BAD_VARINT, assertThrows(FrameException.class, () -> Varint.read(b, "x")).reason());
        } finally {
            b.release();
        }
    }

    @Test
    void readFiveBytes() {
        ByteBuf b = guard.buffer(Wire.hex("80 80 80 80 01"));
        try {
            assertEquals(Reason.BAD_VARINT, assertThrows(FrameException.class, () -> Varint.read(b, "x")).reason());
        } finally {
            b.release();
        }
    }

    @Test
    void readAcceptsNonMinimalEncodings() {
        ByteBuf b = guard.buffer(Wire.hex("80 00 81 80 80 00"));
        try {
            assertEquals(0, Varint.read(b, "x"));
            assertEquals(1, Varint.read(b, "x"));
        } finally {
            b.release();
        }
    }

    @Test
    void peekDoesNotMove() {
        ByteBuf b = guard.buffer(Wire.hex("99 ac 02 05"));
        try {
            b.skipBytes(1);
            long peeked = Varint.peek(b, "len");
            assertEquals(300, (int) peeked);
            assertEquals(2, (int) (peeked >>> 32));
            assertEquals(1, b.readerIndex());
        } finally {
            b.release();
        }
    }

    @Test
    void peekLargest() {
        ByteBuf b = guard.buffer(Wire.hex("ff ff ff 7f"));
        try {
            long peeked = Varint.peek(b, "len");
            assertEquals(Varint.MAX_VALUE, (int) peeked);
            assertEquals(4, (int) (peeked >>> 32));
        } finally {
            b.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "80", "ff ff", "80 80 80"})
    void peekIncomplete(String hex) {
        ByteBuf b = guard.buffer(Wire.hex(hex));
        try {
            assertEquals(-1, Varint.peek(b, "len"));
            assertEquals(0, b.readerIndex());
        } finally {
            b.release();
        }
    }

    @Test
    void peekTooLong() {
        ByteBuf b = guard.buffer(Wire.hex("80 80 80 80"));
        try {
            assertEquals(Reason.BAD_VARINT, assertThrows(FrameException.class, () -> Varint.peek(b, "len")).reason());
        } finally {
            b.release();
        }
    }
}
