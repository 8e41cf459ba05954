package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The order in which frames leave a link ({@link FrameScheduler} behind {@link Link#write}): the link's
 * socket is an {@link EmbeddedChannel} whose outbound buffer has small water marks, so each flush moves
 * only some frames down and the rest wait in the scheduler, as they do behind a busy socket. The
 * assertions are on the order of the frames the socket got.
 */
@ExtendWith(LeakGuard.class)
class LinkSchedulingTest {

    private static final int BULK = 1;
    private static final int INTERACTIVE = 3;
    private static final int FRAME = 16 * 1024;

    /** While set, the socket takes no flush: what was handed down stays in its buffer, as behind a full TCP window. */
    private boolean stuck;
    private final EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (!stuck) {
                ctx.flush();
            }
        }
    });
    private final NodeStats stats = new NodeStats();
    private final Link link;
    private final List<Frame> sent = new ArrayList<>();

    LinkSchedulingTest() {
        ch.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(FRAME, 2 * FRAME));
        link = TestLinks.over(ch, true, LinkSettings.defaults(), stats, (l, open) -> { });
    }

    @AfterEach
    void release() {
        sent.forEach(f -> io.netty.util.ReferenceCountUtil.release(f));
        ch.finishAndReleaseAll();
    }

    private static ByteBuf bytes(int n) {
        return Unpooled.buffer(n).writeZero(n);
    }

    /** One flush, and what the socket got from it. */
    private List<Frame> flushOnce() {
        link.flush();
        List<Frame> got = new ArrayList<>();
        Frame f;
        while ((f = ch.readOutbound()) != null) {
            got.add(f);
        }
        sent.addAll(got);
        return got;
    }

    /** Flushes until the scheduler is empty (bounded); everything the socket got, in order. */
    private List<Frame> flushAll() {
        List<Frame> all = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            List<Frame> got = flushOnce();
            if (got.isEmpty()) {
                return all;
            }
            all.addAll(got);
        }
        throw new AssertionError("the scheduler never emptied");
    }

    private static int payload(Frame f) {
        return f instanceof Frame.Data d ? d.content().readableBytes() : 0;
    }

    private static boolean isData(Frame f, int channel) {
        return f instanceof Frame.Data d && d.channel() == channel;
    }

    @Test
    void aSecondChannelsFrameWaitsForAtMostOneTurnOfTheSaturatingChannel() {
        for (int i = 0; i < 64; i++) {
            link.write(new Frame.Data(BULK, bytes(FRAME)));
        }
        List<Frame> first = flushOnce();
        assertFalse(first.isEmpty());
        assertTrue(link.stats().linkQueuedBytes() > 32 * FRAME, "most of the bulk still waits in the scheduler");

        link.write(new Frame.Data(INTERACTIVE, bytes(100)));
        List<Frame> rest = flushAll();
        int bulkBefore = 0;
        for (Frame f : rest) {
            if (isData(f, INTERACTIVE)) {
                break;
            }
            bulkBefore += payload(f);
        }
        assertTrue(bulkBefore <= FrameScheduler.QUANTUM + FRAME,
                "the interactive frame waited behind " + bulkBefore + " bytes of bulk, more than one turn");
        assertEquals(64, sent.stream().filter(f -> isData(f, BULK)).count(), "no bulk frame is lost");
        assertEquals(0, link.stats().linkQueuedBytes());
    }

    @Test
    void twoBusyChannelsTakeTurnsByBytes() {
        for (int i = 0; i < 40; i++) {
            link.write(new Frame.Data(BULK, bytes(FRAME)));
            link.write(new Frame.Data(INTERACTIVE, bytes(FRAME / 4)));
            link.write(new Frame.Data(INTERACTIVE, bytes(FRAME / 4)));
            link.write(new Frame.Data(INTERACTIVE, bytes(FRAME / 4)));
            link.write(new Frame.Data(INTERACTIVE, bytes(FRAME / 4)));
        }
        long a = 0;
        long b = 0;
        long worst = 0;
        for (Frame f : flushAll()) {
            if (isData(f, BULK)) {
                a += payload(f);
            } else if (isData(f, INTERACTIVE)) {
                b += payload(f);
            }
            if (a < 40L * FRAME && b < 40L * FRAME) { // while both are busy
                worst = Math.max(worst, Math.abs(a - b));
            }
        }
        assertTrue(worst <= 2L * FRAME, "one channel got " + worst + " bytes ahead of the other");
    }

    @Test
    void controlFramesGoFirstEvenWhenTheSocketIsFull() {
        for (int i = 0; i < 64; i++) {
            link.write(new Frame.Data(BULK, bytes(FRAME)));
        }
        stuck = true;
        link.flush();
        assertFalse(ch.isWritable(), "the socket's buffer is above its high water mark");
        // frames already below the scheduler, in the socket's buffer, go first anyway
        int handedDown = 64 - (int) (link.stats().linkQueuedBytes() / (FRAME + FrameScheduler.HEADER));
        link.write(new Frame.Window(INTERACTIVE, 65536));
        link.write(new Frame.OpenOk(4, 65536));
        link.write(new Frame.Ping(7));
        link.write(new Frame.PushAck(5, 9));
        link.flush();
        stuck = false;
        List<Frame> next = flushOnce();
        next = next.subList(handedDown, next.size());
        assertInstanceOf(Frame.Window.class, next.get(0));
        assertInstanceOf(Frame.OpenOk.class, next.get(1));
        assertInstanceOf(Frame.Ping.class, next.get(2));
        assertInstanceOf(Frame.PushAck.class, next.get(3));
        assertTrue(link.stats().linkQueuedBytes() > 0, "the bulk still waits: the control frames jumped it");
        flushAll();
    }

    @Test
    void aChannelsOwnFramesKeepTheirOrder() {
        HostPort target = new HostPort("127.0.0.1", 80);
        for (int i = 0; i < 16; i++) {
            link.write(new Frame.Data(BULK, bytes(FRAME)));
        }
        link.write(new Frame.Open(INTERACTIVE, 1, 65536, false, target));
        link.write(new Frame.Data(INTERACTIVE, bytes(10)));
        link.write(new Frame.PushSeq(INTERACTIVE, new byte[16], 4));
        link.write(new Frame.Data(INTERACTIVE, bytes(20)));
        link.write(new Frame.Eof(INTERACTIVE));
        link.write(new Frame.Close(INTERACTIVE, ErrorCode.NONE));
        List<String> order = new ArrayList<>();
        for (Frame f : flushAll()) {
            switch (f) {
                case Frame.Open o when o.channel() == INTERACTIVE -> order.add("open");
                case Frame.Data d when d.channel() == INTERACTIVE -> order.add("data " + d.content().readableBytes());
                case Frame.PushSeq p -> order.add("seq " + p.seq());
                case Frame.Eof e -> order.add("eof");
                case Frame.Close c -> order.add("close");
                default -> { }
            }
        }
        assertEquals(List.of("open", "data 10", "seq 4", "data 20", "eof", "close"), order);
    }

    @Test
    void aFullChannelQueueStopsThatChannelOnlyAndWakesItWhenHalfDrained() {
        Wakes bulk = new Wakes();
        Wakes other = new Wakes();
        link.register(BULK, bulk);
        link.register(INTERACTIVE, other);
        int frames = 0;
        while (link.canQueue(BULK)) {
            link.write(new Frame.Data(BULK, bytes(FRAME)));
            frames++;
        }
        assertTrue(frames * (long) FRAME >= LinkSockets.CHANNEL_QUEUE - FRAME, "the channel queued " + frames);
        assertTrue(link.canQueue(INTERACTIVE), "another channel may still queue");
        assertTrue(link.isWritable());
        flushAll();
        assertEquals(1, bulk.wakes, "the full channel is woken once its queue drained");
        assertEquals(0, other.wakes, "a channel that was never stopped is not woken");
        link.unregister(BULK);
        link.unregister(INTERACTIVE);
    }

    @Test
    void aDatagramIsRefusedOnlyWhenItsOwnChannelHasABacklog() {
        for (int i = 0; i < LinkSockets.DATAGRAM_BACKLOG / FRAME + 64; i++) {
            link.write(new Frame.Data(BULK, bytes(FRAME)));
        }
        stuck = true;
        assertTrue(link.canTakeDatagram(5, false), "bulk on another channel does not crowd out a datagram");
        boolean refused = false;
        for (int i = 0; i < LinkSockets.DATAGRAM_BACKLOG / 1400 + 64 && !refused; i++) {
            if (link.canTakeDatagram(5, false)) {
                link.write(new Frame.Datagram(5, bytes(1400)));
            } else {
                refused = true;
            }
        }
        assertTrue(refused, "a datagram channel with a full backlog drops");
        stuck = false;
        flushAll();
        assertTrue(link.canTakeDatagram(5, false));
    }

    @Test
    void thePeersCloseDropsWhatWasQueuedForThatChannel() {
        Wakes bulk = new Wakes();
        link.register(BULK, bulk);
        List<ByteBuf> payloads = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            ByteBuf b = bytes(FRAME);
            payloads.add(b);
            link.write(new Frame.Data(BULK, b));
        }
        flushOnce();
        TestLinks.receive(link, new Frame.Close(BULK, ErrorCode.RESET));
        assertEquals(0, link.stats().linkQueuedBytes());
        long released = payloads.stream().filter(b -> b.refCnt() == 0).count();
        assertTrue(released >= 16, "the queued frames were released, " + released + " of 32");
        flushAll();
    }

    @Test
    void anIdWhoseCloseIsStillQueuedIsNotReused() {
        link.write(new Frame.Close(1, ErrorCode.NONE)); // queued, not yet flushed
        assertEquals(3, link.allocateChannelId());
        flushAll();
    }

    @Test
    void whatIsQueuedWhenTheLinkCloses() {
        List<ByteBuf> payloads = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            ByteBuf b = bytes(FRAME);
            payloads.add(b);
            link.write(new Frame.Data(BULK, b));
        }
        flushOnce();
        TestLinks.closed(link);
        assertEquals(0, link.stats().linkQueuedBytes());
        ByteBuf late = bytes(10);
        link.write(new Frame.Data(BULK, late));
        assertEquals(0, late.refCnt(), "a frame written after the link closed is released");
        assertTrue(payloads.stream().filter(b -> b.refCnt() == 0).count() >= 16);
    }

    /** A channel that counts how often the link woke it. */
    private static final class Wakes implements LinkChannel {
        int wakes;

        @Override
        public void onOpenOk(int window) {
        }

        @Override
        public void onOpenFail(ErrorCode code, String message) {
        }

        @Override
        public void onData(ByteBuf payload) {
            payload.release();
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            payload.release();
        }

        @Override
        public void onClose(ErrorCode code) {
        }

        @Override
        public void onLinkWritable() {
            wakes++;
        }

        @Override
        public void onLinkClosed() {
        }
    }
}
