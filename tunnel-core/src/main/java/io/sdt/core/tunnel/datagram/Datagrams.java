package io.sdt.core.tunnel.datagram;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

/** Socket options and buffer handling shared by the UDP ingress and egress (and router mode's UDP flows). */
public final class Datagrams {

    /** Largest UDP payload (IPv4: 65,507; IPv6 jumbograms aside, 65,527): a receive buffer fits any. */
    static final int MAX_DATAGRAM = 65_535;
    /**
     * Kernel buffers of UDP sockets: enough for bursts (about 700 full-size datagrams), small enough
     * that an overloaded ingress drops instead of queueing for hundreds of milliseconds.
     */
    private static final int SOCKET_BUFFER = 1 << 20;
    /** Datagrams read from one socket per wake-up before the loop serves others (and flushes). */
    static final int READ_BURST = 64;

    private Datagrams() {
    }

    static void configure(AbstractBootstrap<?, ?> b) {
        b.option(ChannelOption.RCVBUF_ALLOCATOR, allocator())
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                // one link read burst can carry thousands of datagrams for one socket before its flush
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20));
    }

    /**
     * Receive buffers of one datagram each, read until the socket is empty (at most
     * {@link #READ_BURST} per wake-up). Netty's default stops a level-triggered read loop after the
     * first datagram that does not fill its buffer, which for a 1,400-byte datagram in a 64 KiB
     * buffer is every one: each datagram then became its own link flush, TLS record and TCP write.
     */
    static RecvByteBufAllocator allocator() {
        FixedRecvByteBufAllocator a = new FixedRecvByteBufAllocator(MAX_DATAGRAM);
        a.respectMaybeMoreData(false);
        a.maxMessagesPerRead(READ_BURST);
        return a;
    }

    static boolean canWrite(Channel ch) {
        if (ch.isWritable()) {
            return true;
        }
        ch.flush();
        return ch.isWritable();
    }

    /**
     * A payload that will wait (in the link's queue, or a push spool), trimmed: a 1,400-byte datagram
     * must not pin the 64 KiB receive buffer, nor a 100-byte push record the link's read buffer it is a
     * slice of. One whose buffer (or the buffer it slices) is more than four times its size plus 256
     * bytes is copied into a buffer of its own. Takes ownership of {@code content}.
     */
    public static ByteBuf rightSized(ByteBuf content) {
        int n = content.readableBytes();
        ByteBuf root = content;
        while (root.unwrap() != null) { // a slice (or a leak detector's wrapper) of the buffer that holds the memory
            root = root.unwrap();
        }
        if (root.capacity() <= 4L * n + 256) {
            return content;
        }
        ByteBuf copy = content.alloc().directBuffer(n, n);
        copy.writeBytes(content, content.readerIndex(), n);
        content.release();
        return copy;
    }
}
