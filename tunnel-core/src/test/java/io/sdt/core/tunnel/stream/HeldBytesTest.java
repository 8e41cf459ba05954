package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(LeakGuard.class)
class HeldBytesTest {

    private final NodeStats stats = new NodeStats();
    private final HeldBytes held = new HeldBytes(stats);

    @Test
    void handsOutWholeBuffersOrSlicesOfTheHeadInOrderAndCountsThem() {
        ByteBuf a = Unpooled.wrappedBuffer(new byte[]{1, 2, 3, 4, 5});
        ByteBuf b = Unpooled.wrappedBuffer(new byte[]{6, 7});
        held.add(a);
        held.add(b);
        assertEquals(7, stats.bufferedBytes());

        ByteBuf first = held.take(3);
        assertEquals(3, first.readableBytes());
        assertEquals(1, first.getByte(0));
        assertEquals(4, stats.bufferedBytes());
        first.release();

        ByteBuf rest = held.take(100);
        assertEquals(2, rest.readableBytes(), "the rest of the head, not more");
        assertEquals(4, rest.getByte(rest.readerIndex()));
        rest.release();
        assertEquals(0, a.refCnt());

        ByteBuf second = held.take(2);
        assertEquals(7, second.getByte(second.readerIndex() + 1));
        second.release();
        assertTrue(held.isEmpty());
        assertEquals(0, stats.bufferedBytes());
    }

    @Test
    void releaseFreesEverythingAndTheCount() {
        ByteBuf a = Unpooled.wrappedBuffer(new byte[10]);
        held.add(a);
        held.take(4).release();
        held.release();
        assertEquals(0, a.refCnt());
        assertEquals(0, stats.bufferedBytes());
        assertTrue(held.isEmpty());
    }
}
