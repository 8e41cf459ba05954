package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.sdt.core.link.Link;
import io.sdt.core.metrics.NodeStats;

import java.util.ArrayDeque;

/**
 * Bytes a stream read from its local socket that it may not send yet: beyond its send credit, or
 * before the far node answered OPEN. At most what one read brought, since the socket is not read
 * again while anything is held. Counted in the node's buffered bytes. Confined to the link's loop;
 * owns the buffers until {@link #take} hands them out or {@link #release} frees them.
 */
final class HeldBytes {

    private final ArrayDeque<ByteBuf> buffers = new ArrayDeque<>(4);
    private final NodeStats stats;
    private int bytes;

    HeldBytes(NodeStats stats) {
        this.stats = stats;
    }

    boolean isEmpty() {
        return buffers.isEmpty();
    }

    /** Holds {@code buf} after what is held already. */
    void add(ByteBuf buf) {
        buffers.add(buf);
        bytes += buf.readableBytes();
        stats.buffered(buf.readableBytes());
    }

    /** Hands out at most {@code max} (at least 1) bytes from the head: a whole buffer, or a retained slice. */
    ByteBuf take(long max) {
        ByteBuf head = buffers.peek();
        int n = head.readableBytes();
        if (n <= max) {
            buffers.poll();
        } else {
            n = (int) max;
            head = head.readRetainedSlice(n);
        }
        bytes -= n;
        stats.buffered(-n);
        return head;
    }

    /** Frees everything held (the channel is gone). */
    void release() {
        if (bytes > 0) {
            stats.buffered(-bytes);
            bytes = 0;
        }
        Link.releaseAll(buffers);
    }
}
