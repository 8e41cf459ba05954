package io.sdt.core.tunnel.push;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.FrameDecoder;
import io.sdt.codec.FrameEncoder;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TestLinks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.Await;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import io.sdt.core.tunnel.push.spool.DurableSpool;
import io.sdt.core.tunnel.router.proxy.RouterSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A durable push ingress against a far node that the test plays frame by frame, over a real loopback
 * connection without TLS: what it does with acknowledgements, good and bad.
 */
class PushIngressLinkIT {

    private static final int RECORDS = 50;

    @TempDir
    Path dir;
    private final MultiThreadIoEventLoopGroup group = Transport.select("nio").newGroup(1, Thread.ofPlatform().factory());
    private final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
    private Channel farEnd;
    private Channel server;
    private Link link;
    private Channel listener;

    @AfterEach
    void close() throws Exception {
        if (listener != null) {
            listener.close().sync();
        }
        if (server != null) {
            server.close().sync();
        }
        Frame f;
        while ((f = received.poll()) != null) {
            if (f instanceof Frame.Data d) {
                d.content().release();
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** The far node: frames it receives go to {@link #received}; the test writes its answers to {@link #farEnd}. */
    private void link(NodeStats stats) throws Exception {
        BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
        server = new ServerBootstrap().group(group).channel(Transport.select("nio").serverChannel())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameDecoder(), FrameEncoder.INSTANCE, new SimpleChannelInboundHandler<Frame>(false) {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
                                received.add(f);
                            }
                        });
                        accepted.add(ch);
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        Link[] made = new Link[1];
        Channel ours = new Bootstrap().group(group).channel(Transport.select("nio").socketChannel())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        made[0] = TestLinks.over(ch, true, LinkSettings.defaults(), stats, (l, open) -> { });
                        ch.pipeline().addLast(new FrameDecoder(), FrameEncoder.INSTANCE, new SimpleChannelInboundHandler<Frame>(false) {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
                                TestLinks.deliver(made[0], f);
                            }

                            @Override
                            public void channelReadComplete(ChannelHandlerContext ctx) {
                                TestLinks.endOfBurst(made[0]);
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                TestLinks.closed(made[0]);
                            }
                        });
                    }
                }).connect(server.localAddress()).sync().channel();
        link = made[0];
        farEnd = accepted.poll(5, TimeUnit.SECONDS);
        assertNotNull(farEnd);
        assertTrue(ours.isActive());
    }

    private Tunnel tunnel;

    private Tunnel ingress(NodeStats stats) throws Exception {
        TunnelSpec spec = TunnelSpecParser.parse(TunnelSpec.Direction.LOCAL,
                "127.0.0.1:0:127.0.0.1:9,push,spool-dir=" + dir.resolve("spool"));
        Tunnel t = new Tunnel(1, spec);
        IngressContext in = new IngressContext(group, link.eventLoop(), Transport.select("nio"), () -> link, null, false,
                RouterSettings.of(null, Transport.select("nio").datagramChannel()), null, stats);
        listener = PushIngress.bind(t, in).sync().channel();
        tunnel = t;
        return t;
    }

    private Frame next() throws InterruptedException {
        Frame f = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(f, "a frame from the ingress");
        return f;
    }

    /** Produces RECORDS lines and plays the far node up to the last DATA; returns the channel id. */
    private int produceAndAccept(Tunnel t) throws Exception {
        try (Socket producer = new Socket()) {
            producer.connect(listener.localAddress(), 5000);
            OutputStream out = producer.getOutputStream();
            for (int i = 0; i < RECORDS; i++) {
                out.write(("record " + i + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            out.flush();
            Await.until("the ingress read every record", Duration.ofSeconds(10), () -> t.datagramsIn() >= RECORDS);
        }
        Frame.Open open = assertInstanceOf(Frame.Open.class, next());
        assertTrue(open.push());
        farEnd.writeAndFlush(new Frame.OpenOk(open.channel(), 1 << 20));
        Frame.PushSeq seq = assertInstanceOf(Frame.PushSeq.class, next());
        assertEquals(1, seq.seq(), "the first record of a new spool");
        for (int i = 0; i < RECORDS; i++) {
            Frame.Data d = assertInstanceOf(Frame.Data.class, next());
            assertEquals("record " + i + "\n", d.content().toString(StandardCharsets.US_ASCII));
            d.content().release();
        }
        return open.channel();
    }

    /** What the spool on disk still holds for the next start, once the ingress has closed it. */
    private long pendingOnDisk() throws Exception {
        listener.close().sync();
        listener = null;
        tunnel.stopped().get(10, TimeUnit.SECONDS); // the spool thread did all it was handed, and closed the spool
        try (DurableSpool spool = DurableSpool.open(dir.resolve("spool"), 1 << 30, 1 << 20, DurableSpool.Fsync.NEVER,
                TimeUnit.SECONDS.toNanos(1))) {
            return spool.pending();
        }
    }

    @Test
    void anAcknowledgementFreesExactlyWhatItCovers() throws Exception {
        NodeStats stats = new NodeStats();
        link(stats);
        Tunnel t = ingress(stats);
        int ch = produceAndAccept(t);
        farEnd.writeAndFlush(new Frame.PushAck(ch, 20));
        farEnd.writeAndFlush(new Frame.Ping(7)); // its PONG says the link has handled the acknowledgement
        assertEquals(new Frame.Pong(7), next());
        assertTrue(link.isActive());
        assertEquals(RECORDS - 20, pendingOnDisk(), "records 21 and up stay for the next start");
    }

    @Test
    void anAcknowledgementOfARecordNeverSentIsAProtocolErrorAndLosesNothing() throws Exception {
        NodeStats stats = new NodeStats();
        link(stats);
        Tunnel t = ingress(stats);
        int ch = produceAndAccept(t);
        farEnd.writeAndFlush(new Frame.PushAck(ch, RECORDS + 1000));
        Frame.GoAway bye = assertInstanceOf(Frame.GoAway.class, next());
        assertEquals(ErrorCode.PROTOCOL, bye.code());
        assertTrue(bye.message().contains("PUSH_ACK of record " + (RECORDS + 1000)), bye.message());
        Await.until("the link is closed", Duration.ofSeconds(5), () -> !link.isActive());
        assertEquals(1, stats.protocolErrors());
        assertEquals(RECORDS, pendingOnDisk(), "every record stays in the spool, to be sent on the next link");
    }
}
