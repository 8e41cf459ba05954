package io.sdt.codec;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder's output does not depend on how the stream is cut into reads: split at every byte,
 * byte by byte, in random chunks, and many frames coalesced in one read.
 */
class FrameSplitTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    private List<Object> expected;
    private byte[] wire;

    @BeforeEach
    void encodeSequence() {
        List<Frame> frames = FrameFixtures.sequence(guard);
        expected = Wire.views(frames);
        wire = Wire.encode(guard, frames.toArray(Frame[]::new));
    }

    @Test
    void sequenceCoversEveryFrameType() {
        assertEquals(FrameType.values().length, expected.stream().map(v -> v instanceof Wire.Payload p
                ? p.type() : ((Frame) v).type()).distinct().count());
        assertTrue(wire.length > 500, "sequence is " + wire.length + " bytes");
    }

    @Test
    void splitAtEveryPosition() {
        for (int split = 0; split <= wire.length; split++) {
            EmbeddedChannel ch = guard.codec();
            ch.writeInbound(guard.buffer(wire, 0, split));
            List<Object> got = new ArrayList<>(Wire.readFrames(ch));
            ch.writeInbound(guard.buffer(wire, split, wire.length - split));
            got.addAll(Wire.readFrames(ch));

            assertEquals(expected, got, "split at " + split);
            assertTrue(ch.isOpen());
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void splitAtEveryPairOfPositions() {
        // Three reads: a frame can be cut twice (in its length prefix, header and payload).
        byte[] small = Wire.encode(guard, new Frame.Data(300, guard.pattern(40)), new Frame.Window(300, 16_384),
                new Frame.Datagram(1, guard.pattern(2)));
        List<Object> want = List.of(
                Wire.data(300, 40),
                new Frame.Window(300, 16_384),
                new Wire.Payload(FrameType.DATAGRAM, 1, Wire.hex(LeakGuard.patternBytes(2))));
        for (int a = 0; a <= small.length; a++) {
            for (int b = a; b <= small.length; b++) {
                EmbeddedChannel ch = guard.codec();
                ch.writeInbound(guard.buffer(small, 0, a));
                List<Object> got = new ArrayList<>(Wire.readFrames(ch));
                ch.writeInbound(guard.buffer(small, a, b - a));
                got.addAll(Wire.readFrames(ch));
                ch.writeInbound(guard.buffer(small, b, small.length - b));
                got.addAll(Wire.readFrames(ch));
                assertEquals(want, got, "split at " + a + " and " + b);
                ch.finishAndReleaseAll();
            }
        }
    }

    @Test
    void byteByByte() {
        EmbeddedChannel ch = guard.codec();
        List<Object> got = new ArrayList<>();
        for (int i = 0; i < wire.length; i++) {
            ch.writeInbound(guard.buffer(wire, i, 1));
            got.addAll(Wire.readFrames(ch));
        }
        assertEquals(expected, got);
        assertTrue(ch.isOpen());
    }

    @Test
    void randomChunks() {
        SplittableRandom random = new SplittableRandom(20_260_001);
        for (int round = 0; round < 200; round++) {
            EmbeddedChannel ch = guard.codec();
            List<Object> got = new ArrayList<>();
            for (int i = 0; i < wire.length; ) {
                int n = Math.min(wire.length - i, 1 + random.nextInt(64));
                ch.writeInbound(guard.buffer(wire, i, n));
                got.addAll(Wire.readFrames(ch));
                i += n;
            }
            assertEquals(expected, got, "round " + round);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void coalescedInOneBuffer() {
        List<Frame> many = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            many.addAll(FrameFixtures.sequence(guard));
        }
        List<Object> want = Wire.views(many);
        byte[] all = Wire.encode(guard, many.toArray(Frame[]::new));

        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(all));
        assertEquals(want, Wire.readFrames(ch));
        assertEquals(50 * 26, want.size());
    }

    @Test
    void coalescedWithAPartialFrameAtTheEnd() {
        int cut = wire.length - 3;
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(wire, 0, cut));
        List<Object> first = Wire.readFrames(ch);
        assertEquals(expected.subList(0, expected.size() - 1), first);

        ch.writeInbound(guard.buffer(wire, cut, 3));
        assertEquals(List.of(expected.getLast()), Wire.readFrames(ch));
    }

    @Test
    void partialFrameAtEndOfStreamIsDropped() {
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(wire, 0, wire.length - 1));
        assertEquals(expected.size() - 1, Wire.readFrames(ch).size());
        ch.finish();
        assertEquals(List.of(), Wire.readFrames(ch));
    }
}
