package io.sdt.core.tunnel.stream;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TestLinks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.transport.Outbound;
import io.sdt.core.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The egress side of early data against a peer that breaks its rules: frames go straight into a link on a
 * real event loop while the egress's connect to the target is still pending (the target's accept queue is
 * full, so its SYN waits), and the frames the link sends back are caught before they would be encoded.
 */
class EarlyEgressTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final List<Object> sent = new CopyOnWriteArrayList<>();
    private final List<SocketChannel> fillers = new ArrayList<>();
    private MultiThreadIoEventLoopGroup group;
    private ServerSocket peer;
    private ServerSocket full;
    private Outbound outbound;
    private Link link;

    @BeforeEach
    void linkOnARealLoop() throws Exception {
        group = Transport.NIO.newGroup(1, new DefaultThreadFactory("early-egress"));
        outbound = new Outbound(Transport.NIO);
        peer = new ServerSocket(0, 4, LOOPBACK);
        Channel ch = new Bootstrap().group(group).channel(Transport.NIO.socketChannel())
                .handler(new ChannelOutboundHandlerAdapter() {
                    @Override
                    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                        sent.add(msg instanceof Frame.GoAway g ? g : msg.getClass().getSimpleName());
                        ReferenceCountUtil.release(msg);
                        promise.trySuccess();
                    }
                })
                .connect(peer.getLocalSocketAddress()).sync().channel();
        link = TestLinks.over(ch, false, LinkSettings.defaults(), new NodeStats(), (l, open) -> { });
        // a target whose accept queue is full: our connect's SYN is dropped and retried, so it stays pending
        full = new ServerSocket(0, 1, LOOPBACK);
        for (int i = 0; i < 4; i++) {
            SocketChannel s = SocketChannel.open();
            s.configureBlocking(false);
            s.connect(full.getLocalSocketAddress());
            fillers.add(s);
        }
    }

    @AfterEach
    void close() throws Exception {
        group.submit(() -> TestLinks.closed(link)).get(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        outbound.close();
        for (SocketChannel s : fillers) {
            s.close();
        }
        full.close();
        peer.close();
    }

    @Test
    void moreThanTheEarlyLimitBeforeTheAnswerIsAProtocolViolation() throws Exception {
        Frame.Open open = early(1, true);
        ByteBuf within = Unpooled.wrappedBuffer(new byte[Frame.EARLY_DATA_MAX]);
        ByteBuf over = Unpooled.wrappedBuffer(new byte[1]);
        group.submit(() -> {
            StreamChannel.egress(link, open, open.target(), outbound, null);
            TestLinks.receive(link, new Frame.Data(1, within));
            assertTrue(sent.isEmpty(), "the early limit is allowed; nothing answered yet: " + sent);
            TestLinks.receive(link, new Frame.Data(1, over));
        }).get(5, TimeUnit.SECONDS);
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, sent.getLast());
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertTrue(away.message().contains("more than 65536 bytes before OPEN_OK"), away.message());
        assertEquals(0, over.refCnt(), "the frame beyond the limit is released");
        group.submit(() -> TestLinks.closed(link)).get(5, TimeUnit.SECONDS);
        assertEquals(0, within.refCnt(), "what was held for the target is released with the link");
    }

    @Test
    void dataBeforeTheAnswerOfAPlainOpenIsAProtocolViolation() throws Exception {
        Frame.Open open = early(3, false);
        ByteBuf data = Unpooled.wrappedBuffer(new byte[10]);
        group.submit(() -> {
            StreamChannel.egress(link, open, open.target(), outbound, null);
            TestLinks.receive(link, new Frame.Data(3, data));
        }).get(5, TimeUnit.SECONDS);
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, sent.getLast());
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertTrue(away.message().contains("DATA for channel 3 in state CONNECTING"), away.message());
        assertEquals(0, data.refCnt());
    }

    @Test
    void dataAfterAnEarlyEofIsAProtocolViolation() throws Exception {
        Frame.Open open = early(5, true);
        ByteBuf data = Unpooled.wrappedBuffer(new byte[10]);
        group.submit(() -> {
            StreamChannel.egress(link, open, open.target(), outbound, null);
            TestLinks.receive(link, new Frame.Eof(5));
            TestLinks.receive(link, new Frame.Data(5, data));
        }).get(5, TimeUnit.SECONDS);
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, sent.getLast());
        assertTrue(away.message().contains("after EOF"), away.message());
        assertEquals(0, data.refCnt());
    }

    private Frame.Open early(int channel, boolean early) {
        HostPort target = HostPort.of((InetSocketAddress) full.getLocalSocketAddress());
        return new Frame.Open(channel, 7, LinkSettings.MIN_WINDOW, false, false, false, target, null, false, false,
                false, early);
    }
}
