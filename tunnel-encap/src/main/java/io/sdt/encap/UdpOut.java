package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;

/**
 * Sends TCP segments as UDP payloads from the listen-port socket. Never waits: when the socket's outbound
 * buffer is above its high water mark the segment is dropped and counted. Writes are flushed once per
 * batch ({@link #flush()}). Confined to the event loop; takes ownership of every segment it is given.
 */
final class UdpOut {

    private final TunStats stats;
    private Channel channel;
    private boolean unflushed;

    UdpOut(TunStats stats) {
        this.stats = stats;
    }

    /** The listen-port socket, once bound (segments before that are dropped as congested). */
    void channel(Channel channel) {
        this.channel = channel;
    }

    void send(ByteBuf segment, InetSocketAddress to) {
        if (channel == null || !channel.isWritable()) {
            segment.release();
            stats.discard(Discard.UDP_CONGESTED, to);
            return;
        }
        channel.write(new DatagramPacket(segment, to), channel.voidPromise());
        stats.toUdp();
        unflushed = true;
    }

    void flush() {
        if (unflushed) {
            unflushed = false;
            channel.flush();
        }
    }
}
