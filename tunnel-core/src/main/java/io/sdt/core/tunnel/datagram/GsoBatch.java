package io.sdt.core.tunnel.datagram;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.sdt.core.metrics.NodeStats;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;

/**
 * Coalesces consecutive datagrams of one size, bound for one connected socket, into a single UDP
 * GSO send ({@code UDP_SEGMENT}): the kernel walks its output path once for up to
 * {@link #MAX_SEGMENTS} datagrams and cuts them apart at the end (in software on loopback, or in
 * the NIC). Boundaries are kept: every segment is one of the original datagrams, and only the last
 * may be shorter, as the kernel requires. Used on epoll only; elsewhere each datagram is written
 * on its own.
 *
 * <p>Confined to the socket's event loop. The batch owns the payloads it holds until
 * {@link #emit()} hands them to the socket or {@link #release()} drops them.
 */
final class GsoBatch {

    private static final Logger log = LogManager.getLogger(GsoBatch.class);

    /** Segments per send; the kernel's limit is 64 on older kernels and 128 on newer ones. */
    static final int MAX_SEGMENTS = 64;
    /** Bytes per send: the whole super-datagram must fit one IP packet's 16-bit length. */
    static final int MAX_BYTES = 60 * 1024;

    private final Channel socket;
    private final NodeStats stats;
    private ByteBuf first;
    private CompositeByteBuf parts;
    private int segment;
    private int count;
    private int bytes;
    private boolean sealed;
    /** Set when a GSO send failed (e.g. EIO from a device without checksum offload): no more batching. */
    private boolean broken;

    private GsoBatch(Channel socket, NodeStats stats) {
        this.socket = socket;
        this.stats = stats;
    }

    /** A batch for {@code socket}, or {@code null} if its transport or kernel has no UDP GSO. */
    static GsoBatch forSocket(Channel socket, NodeStats stats) {
        if (socket instanceof EpollDatagramChannel && EpollDatagramChannel.isSegmentedDatagramPacketSupported()) {
            return new GsoBatch(socket, stats);
        }
        return null;
    }

    /** Adds a datagram; writes (without flushing) what was batched before it if it cannot join. */
    void add(ByteBuf payload) {
        int n = payload.readableBytes();
        if (broken) {
            socket.write(payload, socket.voidPromise());
            return;
        }
        if (count > 0 && (sealed || n > segment || n == 0 || count == MAX_SEGMENTS || bytes + n > MAX_BYTES)) {
            emit();
        }
        if (n == 0) {
            socket.write(payload, socket.voidPromise());
            return;
        }
        if (count == 0) {
            first = payload;
            segment = n;
        } else {
            if (parts == null) {
                parts = socket.alloc().compositeDirectBuffer(MAX_SEGMENTS);
                parts.addComponent(true, first);
                first = null;
            }
            parts.addComponent(true, payload);
            sealed = n < segment;
        }
        count++;
        bytes += n;
    }

    /** Writes the batched datagrams to the socket, without flushing. */
    void emit() {
        if (count == 1) {
            socket.write(first, socket.voidPromise());
        } else if (count > 1) {
            stats.gsoSend(count);
            socket.write(new SegmentedDatagramPacket(parts, segment, (InetSocketAddress) socket.remoteAddress()))
                    .addListener(f -> {
                        if (!f.isSuccess() && !broken) {
                            broken = true;
                            log.info("UDP GSO send to {} failed ({}); sending datagrams one by one from now on",
                                    socket.remoteAddress(), f.cause().getMessage());
                        }
                    });
        }
        reset();
    }

    /** Drops whatever is batched (the channel is closing). */
    void release() {
        if (parts != null) {
            parts.release();
        } else if (first != null) {
            first.release();
        }
        reset();
    }

    private void reset() {
        first = null;
        parts = null;
        count = 0;
        bytes = 0;
        segment = 0;
        sealed = false;
    }
}
