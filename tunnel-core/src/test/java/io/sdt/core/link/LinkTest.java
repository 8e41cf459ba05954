package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalChannel;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The link's table, dispatch and error scopes, on an {@link EmbeddedChannel}. */
@ExtendWith(LeakGuard.class)
class LinkTest {

    private final EmbeddedChannel ch = new EmbeddedChannel();
    private final NodeStats stats = new NodeStats();
    private final List<Frame.Open> opens = new ArrayList<>();
    private final Link link = TestLinks.over(ch, true, LinkSettings.defaults(), stats, (l, open) -> opens.add(open));

    @AfterEach
    void release() {
        ch.finishAndReleaseAll();
    }

    @Test
    void clientAllocatesOddIdsServerEvenAndIdsInUseAreSkipped() {
        int first = link.allocateChannelId();
        assertEquals(1, first);
        link.register(3, new Recorder());
        assertEquals(5, link.allocateChannelId(), "3 is in use");
        assertTrue(link.isPeerId(2));
        assertFalse(link.isPeerId(7));
        EmbeddedChannel other = new EmbeddedChannel();
        Link server = TestLinks.over(other, false, LinkSettings.defaults(), stats, (l, o) -> { });
        assertEquals(2, server.allocateChannelId());
        other.finishAndReleaseAll();
    }

    @Test
    void framesGoToTheirChannelAndPayloadsForUnknownChannelsAreReleased() {
        Recorder r = new Recorder();
        link.register(1, r);
        ByteBuf mine = Unpooled.copiedBuffer(new byte[]{1, 2, 3});
        ByteBuf stray = Unpooled.copiedBuffer(new byte[]{4});
        TestLinks.receive(link, new Frame.Data(1, mine));
        TestLinks.receive(link, new Frame.Data(9, stray));
        TestLinks.receive(link, new Frame.Window(1, 100));
        TestLinks.receive(link, new Frame.Eof(1));
        assertEquals(List.of("data 3", "window 100", "eof"), r.events);
        assertEquals(0, stray.refCnt(), "a payload nobody takes is released");
        assertEquals(3, stats.bytesFromLink());
        r.release();
    }

    @Test
    void anOpenFromThePeerGoesToTheHooksOnlyWithThePeersParityAndAFreshId() {
        HostPort target = new HostPort("127.0.0.1", 80);
        TestLinks.receive(link, new Frame.Open(2, 1, 65536, false, target));
        assertEquals(1, opens.size());
        assertTrue(ch.isOpen());
        TestLinks.receive(link, new Frame.Open(5, 1, 65536, false, target));
        assertProtocolViolation();
        assertEquals(1, opens.size());
    }

    @Test
    void aDuplicateOpenIsAProtocolViolation() {
        link.register(2, new Recorder());
        TestLinks.receive(link, new Frame.Open(2, 1, 65536, false, new HostPort("127.0.0.1", 80)));
        assertProtocolViolation();
        assertTrue(opens.isEmpty());
    }

    @Test
    void soleDatagramsGoToTheSoleChannelAndASecondSoleChannelIsAViolation() {
        Recorder sole = new Recorder();
        link.register(1, sole);
        assertTrue(link.markSole(1));
        TestLinks.receive(link, new Frame.SoleDatagram(Unpooled.copiedBuffer(new byte[5])));
        assertEquals(List.of("datagram 5"), sole.events);
        link.register(3, new Recorder());
        assertFalse(link.markSole(3));
        assertProtocolViolation();
        sole.release();
    }

    @Test
    void pingIsAnsweredWithPong() {
        TestLinks.receive(link, new Frame.Ping(42));
        Frame.Pong pong = assertInstanceOf(Frame.Pong.class, ch.readOutbound());
        assertEquals(42, pong.payload());
    }

    @Test
    void authenticationFramesAfterAuthenticationCloseTheLink() {
        TestLinks.receive(link, new Frame.AuthOk());
        assertProtocolViolation();
    }

    @Test
    void localFlushesRunOncePerChannelAtTheEndOfAReadBurst() {
        Recorder r = new Recorder();
        link.register(1, r);
        link.requestLocalFlush(r);
        link.requestLocalFlush(r);
        assertTrue(r.events.isEmpty());
        TestLinks.receive(link, new Frame.Pong(1));
        assertEquals(List.of("flush"), r.events);
    }

    @Test
    void closingTellsEveryChannelAndTheHooksOnce() {
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        link.register(1, a);
        link.register(3, b);
        TestLinks.closed(link);
        TestLinks.closed(link);
        assertEquals(List.of("link closed"), a.events);
        assertEquals(List.of("link closed"), b.events);
        assertTrue(link.isClosed());
        assertEquals(0, link.channelCount());
    }

    @Test
    void rejectReleasesThePayloadAndClosesTheLink() {
        ByteBuf payload = Unpooled.copiedBuffer(new byte[8]);
        link.reject(payload, "DATA on a datagram channel");
        assertEquals(0, payload.refCnt());
        assertProtocolViolation();
    }

    @Test
    void touchingTheTableOrWritingFromAnotherThreadFailsTheAssertion() throws Exception {
        EventLoopGroup group = new DefaultEventLoopGroup(1);
        try {
            LocalChannel off = new LocalChannel();
            group.next().register(off).sync();
            Link foreign = new Link(off, true, LinkSettings.defaults(), stats, (l, o) -> { });
            assertThrows(AssertionError.class, foreign::allocateChannelId);
            assertThrows(AssertionError.class, () -> foreign.register(1, new Recorder()));
            assertThrows(AssertionError.class, () -> foreign.write(new Frame.Ping(1)));
            assertThrows(AssertionError.class, foreign::flush);
            assertFalse(foreign.isClosed(), "state queries are allowed from anywhere");
            group.next().submit(() -> foreign.register(1, new Recorder())).sync(); // on its loop: fine
            assertEquals(1, foreign.channelCount());
            off.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private void assertProtocolViolation() {
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, ch.readOutbound());
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertFalse(ch.isOpen(), "the link closes after GOAWAY");
        assertEquals(1, stats.protocolErrors());
        assertNull(ch.readOutbound());
    }

    /** A channel that writes down what happens to it and keeps the payloads it is given. */
    static final class Recorder implements LinkChannel {
        final List<String> events = new ArrayList<>();
        private final List<ByteBuf> kept = new ArrayList<>();

        @Override
        public void onOpenOk(int window) {
            events.add("open ok " + window);
        }

        @Override
        public void onOpenFail(ErrorCode code, String message) {
            events.add("open fail " + code);
        }

        @Override
        public void onData(ByteBuf payload) {
            events.add("data " + payload.readableBytes());
            kept.add(payload);
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            events.add("datagram " + payload.readableBytes());
            kept.add(payload);
        }

        @Override
        public void onWindow(int increment) {
            events.add("window " + increment);
        }

        @Override
        public void onEof() {
            events.add("eof");
        }

        @Override
        public void onClose(ErrorCode code) {
            events.add("close " + code);
        }

        @Override
        public void flushLocal() {
            events.add("flush");
        }

        @Override
        public void onLinkClosed() {
            events.add("link closed");
        }

        void release() {
            kept.forEach(ByteBuf::release);
        }
    }
}
