package io.sdt.core.tunnel.router.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.FrameException;
import io.sdt.codec.HostPort;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;

/**
 * One SOCKS5 UDP association (RFC 1928 §7): a UDP socket bound to the control connection's local IP
 * (port 0) on the control connection's event loop. Datagrams from the client, {@code RSV(2)=0 FRAG
 * ATYP DST.ADDR DST.PORT DATA}, go to the {@link Sink}; replies from the backend get that header
 * (naming where they came from) and go to the client's last known address.
 *
 * <p>Who the client is: always the control connection's remote IP. A non-zero DST.PORT in the
 * ASSOCIATE request narrows it to that source port, if the request's DST.ADDR was zero or that same
 * IP; a request naming another IP is taken to come from behind NAT and its hint is ignored.
 * Datagrams from anyone else are dropped and counted ({@code strangerDropped}), as are fragments
 * (FRAG != 0, {@code fragmentDropped}) and malformed headers or port 0 ({@code malformed}).
 *
 * <p>Lifetime: the association ends when the control connection closes, for any reason; then the
 * UDP socket closes and {@link Sink#closed()} is called once (if a sink was attached). If the UDP
 * socket fails and closes, the control connection is closed too. {@link #close()} ends it from the
 * backend's side.
 *
 * <p>Confined to the control connection's event loop; {@link #reply} may be called from any thread
 * and hops onto it. Buffers: a payload passed to the sink is the sink's to release; a payload passed
 * to {@code reply} is released by the socket write, or here if it is dropped.
 */
public final class UdpAssociation {

    private static final Logger log = LogManager.getLogger(UdpAssociation.class);
    private static final int MAX_DATAGRAM = 65_535;

    /** Where an association's datagrams go. Called on the control connection's event loop. */
    public interface Sink {
        /** A datagram from the client for {@code target} (never port 0); the sink owns {@code payload}. */
        void datagram(HostPort target, ByteBuf payload);

        /** The association has ended; called once. {@code reply} drops from now on. */
        void closed();

        /** The end of a read burst: what {@link #datagram} queued may be flushed now. */
        default void burstEnded() {
        }
    }

    private final Channel control;
    private final HostPort hint;
    private final RouterStats stats;
    private Channel udp;
    private InetAddress clientIp;
    private int clientPort;
    private InetSocketAddress client;
    private Sink sink;
    private boolean ended;

    UdpAssociation(Channel control, HostPort hint, RouterStats stats) {
        this.control = control;
        this.hint = hint;
        this.stats = stats;
    }

    /** Binds the UDP socket; the association is tied to the control connection from here on. */
    ChannelFuture bind(Class<? extends DatagramChannel> type) {
        if (!(control.localAddress() instanceof InetSocketAddress local)
                || !(control.remoteAddress() instanceof InetSocketAddress remote)) {
            return control.newFailedFuture(new IllegalStateException("control connection has no IP addresses"));
        }
        clientIp = remote.getAddress();
        InetSocketAddress named = hint.toSocketAddress();
        boolean sameIp = named.getAddress() != null
                && (named.getAddress().isAnyLocalAddress() || named.getAddress().equals(clientIp));
        clientPort = sameIp ? hint.port() : 0;
        ChannelFuture f = new Bootstrap().group(control.eventLoop()).channel(type)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                .handler(new Reader())
                .bind(new InetSocketAddress(local.getAddress(), 0));
        udp = f.channel();
        udp.closeFuture().addListener(x -> ended());
        control.closeFuture().addListener(x -> udp.close());
        return f;
    }

    void start(Sink sink) {
        this.sink = sink;
    }

    /** The control connection, the customer's TCP socket this association belongs to. */
    public Channel control() {
        return control;
    }

    /** The UDP socket's address, as told to the client. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) udp.localAddress();
    }

    /** The address replies go to: the source of the last accepted datagram, or {@code null} before one. */
    public InetSocketAddress client() {
        return client;
    }

    public boolean isOpen() {
        return !ended;
    }

    /** Ends the association: closes the control connection, which closes the UDP socket. */
    public void close() {
        control.close();
    }

    /**
     * Sends {@code payload} to the client as a datagram from {@code from}. Takes ownership of
     * {@code payload}; drops it (counted) if there is no client yet, the socket is full or closed.
     */
    public void reply(HostPort from, ByteBuf payload) {
        if (!control.eventLoop().inEventLoop()) {
            try {
                control.eventLoop().execute(() -> reply(from, payload));
            } catch (RejectedExecutionException e) {
                payload.release();
            }
            return;
        }
        if (ended || client == null || !writable()) {
            stats.datagramDropped();
            payload.release();
            return;
        }
        ByteBuf header = udp.alloc().buffer(3 + from.encodedSize());
        header.writeShort(0).writeByte(0);
        from.encode(header);
        CompositeByteBuf out = udp.alloc().compositeBuffer(2).addComponents(true, header, payload);
        udp.writeAndFlush(new DatagramPacket(out, client), udp.voidPromise());
    }

    private boolean writable() {
        if (udp.isWritable()) {
            return true;
        }
        udp.flush();
        return udp.isWritable();
    }

    private void ended() {
        if (ended) {
            return;
        }
        ended = true;
        // before start() the frontend owns the outcome (it refuses with a reply, then closes)
        if (sink != null) {
            control.close();
            sink.closed();
        }
    }

    private void received(DatagramPacket packet) {
        InetSocketAddress from = packet.sender();
        if (!from.getAddress().equals(clientIp) || clientPort != 0 && from.getPort() != clientPort) {
            stats.strangerDropped();
            return;
        }
        ByteBuf c = packet.content();
        int r = c.readerIndex();
        if (c.readableBytes() < 4 || c.getUnsignedShort(r) != 0) {
            stats.malformed();
            return;
        }
        if (c.getUnsignedByte(r + 2) != 0) {
            stats.fragmentDropped();
            return;
        }
        c.skipBytes(3);
        HostPort target;
        try {
            target = HostPort.decode(c);
        } catch (FrameException | IllegalArgumentException e) {
            stats.malformed();
            return;
        }
        if (target.port() == 0) {
            stats.malformed();
            return;
        }
        client = from;
        if (sink == null || ended) {
            stats.datagramDropped();
            return;
        }
        sink.datagram(target, payload(c));
    }

    /**
     * The rest of {@code c} as a buffer of its own: a slice if that wastes little, else a right-sized
     * copy, so that a small datagram does not pin a 64 KiB receive buffer while it waits in a queue.
     */
    private static ByteBuf payload(ByteBuf c) {
        int n = c.readableBytes();
        if (c.capacity() <= 4 * n + 256) {
            return c.retainedSlice();
        }
        ByteBuf copy = c.alloc().directBuffer(n, n);
        copy.writeBytes(c, c.readerIndex(), n);
        return copy;
    }

    /** The UDP socket's only handler. */
    private final class Reader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DatagramPacket packet) {
                    received(packet);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Sink s = sink;
            if (s != null) {
                s.burstEnded();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // UDP errors (an ICMP unreachable from the client, a failed send) do not end the association
            log.debug("{}: UDP association error: {}", control, cause.toString());
        }
    }
}
