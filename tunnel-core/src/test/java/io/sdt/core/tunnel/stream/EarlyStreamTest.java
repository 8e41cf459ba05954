package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TestLinks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ingress side of early data on {@link EmbeddedChannel}s (the link's frames come out as objects; the
 * customer's socket has AUTO_READ off and counts the reads it is asked for): what an ingress may send before
 * the answer, how OPEN_OK's window is shared with what went ahead, and what a link that did not agree on
 * early data does. The egress side runs on real sockets in {@code EarlyDataIT}.
 */
@ExtendWith(LeakGuard.class)
class EarlyStreamTest {

    private static final HostPort TARGET = new HostPort("127.0.0.1", 5432);
    private static final int EARLY = Frame.EARLY_DATA_MAX;

    private final EmbeddedChannel linkCh = new EmbeddedChannel();
    private final NodeStats stats = new NodeStats();
    private final Link link = TestLinks.early(linkCh, true, LinkSettings.defaults(), stats, (l, open) -> { });
    private final EmbeddedChannel socket = new EmbeddedChannel();
    private final Tunnel tunnel = new Tunnel(7, TunnelSpecParser.parse(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:5432"));
    private int reads;

    @BeforeEach
    void countReads() {
        socket.config().setAutoRead(false);
        socket.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads++;
                ctx.read();
            }
        });
        assertTrue(tunnel.tryAcquire());
    }

    @AfterEach
    void release() {
        socket.finishAndReleaseAll();
        linkCh.finishAndReleaseAll();
    }

    @Test
    void aForwardedCustomerIsReadAtOnceAndUpToTheEarlyLimitGoesAhead() {
        int id = openForward();
        assertEquals(1, reads, "read before the answer");
        socket.writeInbound(bytes(EARLY + 5000));
        assertEquals(EARLY, sum(dataSizes()), "the early limit, no more");
        assertEquals(1, reads, "with bytes held back, the socket is not read again");
        assertEquals(0, stats.windowStalls(), "waiting for the answer is not a window stall");

        // the acceptor's window holds what came early: the credit is its window less that
        TestLinks.receive(link, new Frame.OpenOk(id, 100_000));
        assertEquals(List.of(5000), dataSizes(), "the rest of the first read follows the answer");
        assertEquals(2, reads);
        socket.writeInbound(bytes(40_000));
        assertEquals(100_000 - EARLY - 5000, sum(dataSizes()), "no more than OPEN_OK's window in flight");
        assertEquals(1, stats.windowStalls());
    }

    @Test
    void theCustomersFinGoesAheadAsEof() {
        int id = openForward();
        socket.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.0\r\n\r\n", StandardCharsets.US_ASCII));
        socket.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        List<Frame> out = drain();
        assertEquals(2, out.size(), out.toString());
        assertEquals(18, assertInstanceOf(Frame.Data.class, out.get(0)).content().readableBytes());
        assertEquals(new Frame.Eof(id), out.get(1));
        ((Frame.Data) out.get(0)).release();
        TestLinks.receive(link, new Frame.OpenOk(id, LinkSettings.MIN_WINDOW));
        assertTrue(drain().isEmpty(), "nothing twice: the EOF has gone");
    }

    @Test
    void aRefusalAfterEarlyDataClosesTheCustomerAndFreesWhatWasHeld() {
        int id = openForward();
        socket.writeInbound(bytes(EARLY + 1000)); // 1000 bytes wait for credit
        dataSizes();
        assertEquals(1000, stats.bufferedBytes());
        TestLinks.receive(link, new Frame.OpenFail(id, ErrorCode.REFUSED, "connection refused"));
        assertFalse(socket.isOpen());
        assertEquals(0, stats.bufferedBytes());
        assertEquals(0, tunnel.activeChannels());
        assertFalse(link.isRegistered(id));
    }

    @Test
    void anAnswerWhoseWindowIsSmallerThanWhatWentAheadIsAProtocolViolation() {
        int id = openForward();
        socket.writeInbound(bytes(5000));
        dataSizes();
        TestLinks.receive(link, new Frame.OpenOk(id, 4000));
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, drain().getLast());
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertTrue(away.message().contains("sent early"), away.message());
    }

    @Test
    void aRouterCustomerWaitingForItsReplyIsNotReadEarly() {
        StreamChannel.ingress(link, socket, tunnel, TARGET, new OpenAnswer() {
            @Override
            public ByteBuf accepted() {
                return Unpooled.EMPTY_BUFFER;
            }

            @Override
            public void refused(ErrorCode code, String message) {
            }
        });
        assertFalse(assertInstanceOf(Frame.Open.class, linkCh.readOutbound()).early());
        assertEquals(0, reads);
    }

    @Test
    void anOptimisticCustomersPipelinedBytesGoAheadAndARefusalResetsIt() {
        ByteBuf ahead = Unpooled.copiedBuffer("ClientHello", StandardCharsets.US_ASCII);
        StreamChannel.ingress(link, socket, tunnel, TARGET, OpenAnswer.optimistic(socket, ahead));
        Frame.Open open = assertInstanceOf(Frame.Open.class, linkCh.readOutbound());
        assertTrue(open.early());
        Frame.Data first = assertInstanceOf(Frame.Data.class, linkCh.readOutbound());
        assertEquals("ClientHello", first.content().toString(StandardCharsets.US_ASCII));
        first.release();
        TestLinks.receive(link, new Frame.OpenFail(open.channel(), ErrorCode.DENIED, "not allowed"));
        assertFalse(socket.isOpen());
        assertEquals("not allowed", tunnel.lastError());
    }

    @Test
    void anOptimisticAnswerWithoutALinkFreesWhatTheCustomerSentAhead() {
        ByteBuf ahead = Unpooled.copiedBuffer("ClientHello", StandardCharsets.US_ASCII);
        TestLinks.closed(link);
        StreamChannel.ingress(link, socket, tunnel, TARGET, OpenAnswer.optimistic(socket, ahead));
        assertEquals(0, ahead.refCnt());
        assertFalse(socket.isOpen());
        assertEquals(0, tunnel.activeChannels());
    }

    @Test
    void aLinkWhoseEndsDidNotAgreeOnEarlyDataSendsNoneAndTakesNone() {
        EmbeddedChannel plainCh = new EmbeddedChannel();
        NodeStats plainStats = new NodeStats();
        Link plain = TestLinks.over(plainCh, false, LinkSettings.defaults(), plainStats, (l, open) -> { });
        StreamChannel.ingress(plain, socket, tunnel, TARGET, OpenAnswer.closing(socket));
        assertFalse(assertInstanceOf(Frame.Open.class, plainCh.readOutbound()).early());
        assertEquals(0, reads, "nothing is read before OPEN_OK");

        TestLinks.receive(plain, new Frame.Open(1, 7, LinkSettings.MIN_WINDOW, false, false, false, TARGET, null,
                false, false, false, true));
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, plainCh.readOutbound());
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertTrue(away.message().contains("early OPEN"), away.message());
        assertEquals(1, plainStats.protocolErrors());
        plainCh.finishAndReleaseAll();
    }

    // ---- helpers ----

    /** Starts the ingress of a forwarded connection; returns its channel id, having checked the OPEN. */
    private int openForward() {
        StreamChannel.ingress(link, socket, tunnel, TARGET, OpenAnswer.closing(socket));
        Frame.Open open = assertInstanceOf(Frame.Open.class, linkCh.readOutbound());
        assertTrue(open.early(), "a forward on a link that agreed on early data opens early");
        return open.channel();
    }

    private static ByteBuf bytes(int n) {
        return LinkOutput.bytes(n);
    }

    private static int sum(List<Integer> sizes) {
        return sizes.stream().mapToInt(Integer::intValue).sum();
    }

    /** The sizes of the DATA frames the link wrote since the last call (released). */
    private List<Integer> dataSizes() {
        return LinkOutput.dataSizes(linkCh);
    }

    private List<Frame> drain() {
        return LinkOutput.drain(linkCh);
    }
}
