package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.io.IOException;
import java.util.function.IntSupplier;

/**
 * Datagrams arriving on the listen-port socket: checks the payload is a TCP segment, asks the role's
 * {@link Peers} for the source address (0 means the sender is not authenticated: discard), recomputes the
 * TCP checksum for the new pseudo-header (source, first IPv4 address of the TUN), prepends a 20-byte IPv4
 * header and writes both to the TUN with one {@code writev}; with a device that takes the virtio header,
 * consecutive segments of a flow are joined first ({@link Coalescer}) and written at the end of the read
 * burst. Confined to the UDP channel's event loop; {@link SimpleChannelInboundHandler} releases each
 * datagram; the header buffer is ours and reused.
 */
final class UdpToTun extends SimpleChannelInboundHandler<DatagramPacket> {

    private final Peers peers;
    private final IntSupplier tunAddress;
    private final TunSink tun;
    private final TunStats stats;
    private final ByteBuf header;
    /** Null unless the device takes the virtio header. */
    private final Coalescer coalescer;

    UdpToTun(Peers peers, IntSupplier tunAddress, TunSink tun, TunStats stats, ByteBufAllocator alloc) {
        this(peers, tunAddress, tun, stats, alloc, false);
    }

    /** {@code vnetHeader}: the device takes the virtio header, so segments are joined before they go to it. */
    UdpToTun(Peers peers, IntSupplier tunAddress, TunSink tun, TunStats stats, ByteBufAllocator alloc,
            boolean vnetHeader) {
        this.peers = peers;
        this.tunAddress = tunAddress;
        this.tun = tun;
        this.stats = stats;
        this.header = alloc.directBuffer(Ipv4.HEADER_LENGTH, Ipv4.HEADER_LENGTH);
        this.coalescer = vnetHeader ? new Coalescer(tun, stats, alloc) : null;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        stats.fromUdp();
        ByteBuf seg = packet.content();
        Discard bad = TcpSegment.check(seg, seg.readerIndex(), seg.readableBytes());
        if (bad != null) {
            stats.discard(bad, packet.sender());
            return;
        }
        int source = peers.sourceFor(packet.sender());
        if (source == 0) {
            stats.discard(Discard.UNKNOWN_PEER, packet.sender());
            return;
        }
        int destination = tunAddress.getAsInt();
        if (destination == 0) {
            stats.discard(Discard.NO_TUN_ADDRESS, packet.sender());
            return;
        }
        if (coalescer != null) {
            coalescer.add(seg, source, destination);
            return;
        }
        TcpSegment.rewriteChecksum(seg, source, destination);
        header.clear();
        Ipv4.writeHeader(header, source, destination, seg.readableBytes());
        try {
            tun.write(header, seg);
            stats.toTun();
        } catch (IOException e) {
            stats.discard(Discard.TUN_WRITE_FAILED, e.getMessage());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (coalescer != null) {
            coalescer.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // UDP writes use the void promise, so a failed send surfaces here; the socket stays open
        stats.discard(Discard.UDP_SEND_FAILED, cause.toString());
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        header.release();
        if (coalescer != null) {
            coalescer.release();
        }
    }
}
