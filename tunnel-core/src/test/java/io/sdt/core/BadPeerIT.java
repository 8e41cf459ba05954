package io.sdt.core;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.codec.Varint;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.Token;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer that authenticates properly and then sends frames a correct node never would. A frame
 * for a channel that does not exist is ignored; a protocol violation (DATA on a UDP channel, a
 * frame over the maximum length, an unexpected BIND to a client-only frame) closes that link and
 * nothing else; no buffer leaks.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadPeerIT {

    private final Transport transport = Transport.select("auto");
    private EventLoopGroup group;

    @BeforeEach
    void group() {
        group = transport.newGroup(1, new DefaultThreadFactory("bad-peer"));
    }

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** An authenticated link to {@code server} whose side of the conversation the test writes by hand. */
    private Link rawLink(SdtServer server, String token) throws Exception {
        Promise<Link> result = group.next().newPromise();
        LinkHooks ignore = (link, open) -> link.writeAndFlush(new Frame.OpenFail(open.channel(),
                io.sdt.codec.ErrorCode.DENIED, "no"));
        new Bootstrap().group(group).channel(transport.socketChannel())
                .handler(new LinkPipelines(Token.of(token), LinkSettings.defaults(), new NodeStats(), ignore)
                        .client(TlsSetup.client(TlsSetup.ClientOptions.DEFAULT), "127.0.0.1", server.address().getPort(),
                                result))
                .connect(server.address());
        return result.get(10, TimeUnit.SECONDS);
    }

    private static void send(Link link, Object msg) {
        link.eventLoop().execute(() -> link.channel().writeAndFlush(msg));
    }

    @Test
    void framesForUnknownChannelsAreIgnoredAndReleased() throws Exception {
        try (Nodes nodes = new Nodes(); UdpTarget echo = UdpTarget.echo(InetAddress.getLoopbackAddress())) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            Link link = rawLink(server, nodes.token);
            for (int i = 0; i < 100; i++) {
                send(link, new Frame.Datagram(1001 + 2 * i, Unpooled.wrappedBuffer(new byte[1000])));
                send(link, new Frame.Data(3001 + 2 * i, Unpooled.wrappedBuffer(new byte[300])));
                send(link, new Frame.Window(5001, 100));
                send(link, new Frame.Eof(5003));
                send(link, new Frame.Close(5005, io.sdt.codec.ErrorCode.NONE));
            }
            // the link still works: open a UDP channel and get an echo back
            java.util.concurrent.CompletableFuture<byte[]> reply = new java.util.concurrent.CompletableFuture<>();
            link.eventLoop().execute(() -> link.register(7, new EchoCatcher(reply)));
            send(link, new Frame.Open(7, 1, 0, true, new HostPort("127.0.0.1", echo.port())));
            send(link, new Frame.Datagram(7, Unpooled.wrappedBuffer("still alive".getBytes())));
            assertEquals("still alive", new String(reply.get(10, TimeUnit.SECONDS)));
            assertEquals(0, server.stats().protocolErrors());
            assertEquals(1, server.linkCount());
            link.channel().close().sync();
        }
    }

    @Test
    void dataOnAUdpChannelClosesThatLinkOnly() throws Exception {
        try (Nodes nodes = new Nodes(); UdpTarget echo = UdpTarget.echo(InetAddress.getLoopbackAddress())) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            Link good = rawLink(server, nodes.token);
            Link bad = rawLink(server, nodes.token);
            send(bad, new Frame.Open(1, 1, 0, true, new HostPort("127.0.0.1", echo.port())));
            send(bad, new Frame.Data(1, Unpooled.wrappedBuffer(new byte[64])));
            assertTrue(bad.channel().closeFuture().await(10, TimeUnit.SECONDS), "the violating link is closed");
            Await.until("violation counted", Duration.ofSeconds(5), () -> server.stats().protocolErrors() == 1);
            assertTrue(good.channel().isActive(), "the other link lives on");
            Await.until("one link left", Duration.ofSeconds(5), () -> server.linkCount() == 1);
            good.channel().close().sync();
        }
    }

    @Test
    void oversizedFrameClosesTheLink() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> { });
            Link bad = rawLink(server, nodes.token);
            int length = LinkSettings.defaults().maxFrameLength() + 1;
            ByteBuf raw = Unpooled.buffer();
            Varint.write(raw, length);
            raw.writeByte(0x17);
            raw.writeZero(64);
            send(bad, raw);
            assertTrue(bad.channel().closeFuture().await(10, TimeUnit.SECONDS), "link closed");
            Await.until("violation counted", Duration.ofSeconds(5), () -> server.stats().protocolErrors() == 1);
        }
    }

    @Test
    void anUnknownUnbindIsIgnoredAndASecondBindForOneTunnelIsAViolation() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowBind("127.0.0.1:*"));
            Link bad = rawLink(server, nodes.token);
            send(bad, new Frame.Unbind(99));
            send(bad, new Frame.Unbind(Varint.MAX_VALUE));
            // both BINDs leave in one flush, before the first BIND_OK can come back
            bad.eventLoop().execute(() -> {
                bad.channel().write(new Frame.Bind(5, false, new HostPort("127.0.0.1", 0)));
                bad.channel().writeAndFlush(new Frame.Bind(5, false, new HostPort("127.0.0.1", 0)));
            });
            assertTrue(bad.channel().closeFuture().await(10, TimeUnit.SECONDS), "link closed");
            Await.until("violation counted", Duration.ofSeconds(5), () -> server.stats().protocolErrors() == 1);
            Await.until("the link is gone", Duration.ofSeconds(5), () -> server.linkCount() == 0);
        }
    }

    @Test
    void clientOnlyFramesFromAClientAreViolations() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> { });
            Link bad = rawLink(server, nodes.token);
            send(bad, new Frame.BindOk(1, new HostPort("127.0.0.1", 1)));
            assertTrue(bad.channel().closeFuture().await(10, TimeUnit.SECONDS), "link closed");
            Await.until("violation counted", Duration.ofSeconds(5), () -> server.stats().protocolErrors() == 1);
        }
    }

    /** Catches the first datagram that comes back on the raw link's channel. */
    private static final class EchoCatcher implements io.sdt.core.link.LinkChannel {
        private final java.util.concurrent.CompletableFuture<byte[]> reply;

        EchoCatcher(java.util.concurrent.CompletableFuture<byte[]> reply) {
            this.reply = reply;
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            byte[] b = new byte[payload.readableBytes()];
            payload.readBytes(b);
            payload.release();
            reply.complete(b);
        }

        @Override
        public void onData(ByteBuf payload) {
            payload.release();
        }

        @Override
        public void onOpenOk(int window) {
        }

        @Override
        public void onOpenFail(io.sdt.codec.ErrorCode code, String message) {
            reply.completeExceptionally(new AssertionError(message));
        }

        @Override
        public void onWindow(int increment) {
        }

        @Override
        public void onEof() {
        }

        @Override
        public void onClose(io.sdt.codec.ErrorCode code) {
        }

        @Override
        public void flushLocal() {
        }

        @Override
        public void onLinkWritable() {
        }

        @Override
        public void onLinkClosed() {
        }
    }
}
