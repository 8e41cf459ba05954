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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flow control and the life of one ingress stream, on {@link EmbeddedChannel}s: one stands for the link
 * (frames come out as objects), one for the customer's socket (AUTO_READ off; reads it asks for are
 * counted).
 */
@ExtendWith(LeakGuard.class)
class StreamChannelTest {

    private static final int WINDOW = LinkSettings.MIN_WINDOW;
    private static final HostPort TARGET = new HostPort("127.0.0.1", 5432);

    private final EmbeddedChannel linkCh = new EmbeddedChannel();
    private final NodeStats stats = new NodeStats();
    private final Link link = TestLinks.over(linkCh, true, LinkSettings.defaults().withWindow(WINDOW), stats,
            (l, open) -> { });
    private final EmbeddedChannel socket = new EmbeddedChannel();
    private final Tunnel tunnel = new Tunnel(7, TunnelSpecParser.parse(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:5432"));
    private int reads;
    private int id;

    @BeforeEach
    void openIngress() {
        socket.config().setAutoRead(false);
        socket.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads++;
                ctx.read();
            }
        });
        assertTrue(tunnel.tryAcquire());
        StreamChannel.ingress(link, socket, tunnel, TARGET, OpenAnswer.closing(socket));
        Frame.Open open = assertInstanceOf(Frame.Open.class, linkCh.readOutbound());
        id = open.channel();
        assertEquals(7, open.tunnelId());
        assertEquals(WINDOW, open.window(), "OPEN advertises this side's receive window");
        assertEquals(TARGET, open.target());
        assertFalse(open.early(), "a link whose ends did not agree on early data (ALPN sdt/1) opens plainly");
    }

    @AfterEach
    void release() {
        socket.finishAndReleaseAll();
        linkCh.finishAndReleaseAll();
    }

    @Test
    void readsNothingBeforeTheAnswerThenNeverSendsMoreThanTheCredit() {
        assertEquals(0, reads, "nothing is read before OPEN_OK");
        TestLinks.receive(link, new Frame.OpenOk(id, 1000));
        assertEquals(1, reads);
        assertEquals(1, tunnel.activeChannels());

        socket.writeInbound(bytes(2500));
        assertEquals(List.of(1000), dataSizes(), "the peer's window is 1000 bytes");
        assertEquals(1, reads, "with bytes held back, the socket is not read");

        TestLinks.receive(link, new Frame.Window(id, 1000));
        assertEquals(List.of(1000), dataSizes());
        TestLinks.receive(link, new Frame.Window(id, 5000));
        assertEquals(List.of(500), dataSizes());
        assertEquals(2, reads, "everything sent and credit left: read again");
        assertEquals(2500, stats.bytesToLink());
        assertEquals(0, stats.bufferedBytes());
    }

    @Test
    void peerBytesAreCreditedBackOnlyOnceWrittenAQuarterWindowAtATime() {
        TestLinks.receive(link, new Frame.OpenOk(id, WINDOW));
        linkCh.readOutbound();
        int quarter = WINDOW / 4;
        TestLinks.deliver(link, new Frame.Data(id, bytes(quarter)));
        assertNull(linkCh.readOutbound(), "not written to the socket yet: no credit back");
        TestLinks.endOfBurst(link);
        assertEquals(quarter, written());
        Frame.Window w = assertInstanceOf(Frame.Window.class, linkCh.readOutbound());
        assertEquals(new Frame.Window(id, quarter), w);

        TestLinks.receive(link, new Frame.Data(id, bytes(quarter - 1)));
        assertEquals(quarter - 1, written());
        assertNull(linkCh.readOutbound(), "less than a quarter window consumed: wait");
    }

    @Test
    void dataBeyondTheWindowIsAProtocolViolationAndIsReleased() {
        TestLinks.receive(link, new Frame.OpenOk(id, WINDOW));
        TestLinks.deliver(link, new Frame.Data(id, bytes(WINDOW)));
        ByteBuf over = bytes(1);
        TestLinks.deliver(link, new Frame.Data(id, over));
        assertEquals(0, over.refCnt());
        Frame.GoAway away = lastFrame(Frame.GoAway.class);
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertTrue(away.message().contains("exceeded its window"), away.message());
        assertFalse(linkCh.isOpen());
    }

    @Test
    void creditBeyond2To31IsAProtocolViolation() {
        TestLinks.receive(link, new Frame.OpenOk(id, WINDOW));
        for (int i = 0; i < 8 && linkCh.isOpen(); i++) {
            TestLinks.receive(link, new Frame.Window(id, (1 << 28) - 1));
        }
        assertEquals(ErrorCode.PROTOCOL, lastFrame(Frame.GoAway.class).code());
        assertEquals(1, stats.protocolErrors());
    }

    @Test
    void aRefusalClosesTheCustomerAndGivesTheSlotBack() {
        TestLinks.receive(link, new Frame.OpenFail(id, ErrorCode.DENIED, "not allowed"));
        assertFalse(socket.isOpen());
        assertEquals(0, tunnel.activeChannels());
        assertEquals("not allowed", tunnel.lastError());
        assertFalse(link.isRegistered(id));
    }

    @Test
    void theLocalFinBecomesEofAfterTheHeldBytes() {
        TestLinks.receive(link, new Frame.OpenOk(id, 10));
        socket.writeInbound(bytes(25));
        socket.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertEquals(List.of(10), dataSizes());
        TestLinks.receive(link, new Frame.Window(id, 100));
        List<Frame> out = drain();
        assertEquals(2, out.size(), out.toString());
        assertEquals(15, ((Frame.Data) out.get(0)).content().readableBytes());
        assertEquals(new Frame.Eof(id), out.get(1));
        out.forEach(f -> { if (f instanceof Frame.Data d) { d.release(); } });
    }

    @Test
    void aClosingLinkGivesBackTheSlotAndClosesTheCustomer() {
        TestLinks.receive(link, new Frame.OpenOk(id, WINDOW));
        TestLinks.closed(link);
        assertFalse(socket.isOpen());
        assertEquals(0, tunnel.activeChannels());
        assertEquals(0, stats.channelsOpen());
    }

    @Test
    void whatARoutersCustomerSentAheadGoesFirstAndALinkLostWhileOpeningIsTheAnswer() {
        EmbeddedChannel customer = new EmbeddedChannel();
        List<String> answers = new ArrayList<>();
        OpenAnswer router = new OpenAnswer() {
            @Override
            public ByteBuf accepted() {
                answers.add("accepted");
                return Unpooled.copiedBuffer("ClientHello", StandardCharsets.US_ASCII);
            }

            @Override
            public void refused(ErrorCode code, String message) {
                answers.add("refused " + code);
            }
        };
        assertTrue(tunnel.tryAcquire());
        StreamChannel.ingress(link, customer, tunnel, TARGET, router);
        int second = assertInstanceOf(Frame.Open.class, linkCh.readOutbound()).channel();
        TestLinks.receive(link, new Frame.OpenOk(second, WINDOW));
        Frame.Data first = assertInstanceOf(Frame.Data.class, linkCh.readOutbound());
        assertEquals("ClientHello", first.content().toString(StandardCharsets.US_ASCII));
        first.release();
        assertEquals(List.of("accepted"), answers);

        TestLinks.closed(link); // our own channel is still OPENING
        customer.finishAndReleaseAll();
        assertFalse(socket.isOpen(), "the plain customer's socket closes");
        assertEquals(0, tunnel.activeChannels());
    }

    @Test
    void aRouterCustomerHearsTheRefusalInsteadOfAClose() {
        List<String> answers = new ArrayList<>();
        EmbeddedChannel customer = new EmbeddedChannel();
        assertTrue(tunnel.tryAcquire());
        StreamChannel.ingress(link, customer, tunnel, TARGET, new OpenAnswer() {
            @Override
            public ByteBuf accepted() {
                return Unpooled.EMPTY_BUFFER;
            }

            @Override
            public void refused(ErrorCode code, String message) {
                answers.add("refused " + code);
            }
        });
        int second = assertInstanceOf(Frame.Open.class, linkCh.readOutbound()).channel();
        TestLinks.receive(link, new Frame.OpenFail(second, ErrorCode.TIMEOUT, "connect timed out"));
        assertEquals(List.of("refused TIMEOUT"), answers);
        assertTrue(customer.isOpen(), "the router's front end writes its reply, then closes");
        customer.finishAndReleaseAll();
    }

    /** Bytes of the next write to the customer's socket (released). */
    private int written() {
        ByteBuf b = socket.readOutbound();
        int n = b.readableBytes();
        b.release();
        return n;
    }

    private static ByteBuf bytes(int n) {
        return LinkOutput.bytes(n);
    }

    /** The sizes of the DATA frames the link wrote since the last call (released). */
    private List<Integer> dataSizes() {
        return LinkOutput.dataSizes(linkCh);
    }

    private List<Frame> drain() {
        return LinkOutput.drain(linkCh);
    }

    private <T extends Frame> T lastFrame(Class<T> type) {
        List<Frame> out = drain();
        for (Frame f : out.subList(0, out.size() - 1)) {
            if (f instanceof Frame.Data d) {
                d.release();
            }
        }
        return assertInstanceOf(type, out.getLast());
    }
}
