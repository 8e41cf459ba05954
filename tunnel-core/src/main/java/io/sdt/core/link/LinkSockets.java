package io.sdt.core.link;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;

/**
 * How a link queues what it sends, on both nodes, from the top down:
 * <ol>
 * <li>the link's {@link FrameScheduler}, where frames wait in their channel's queue: a channel stops
 *     reading its customer socket once its queue holds {@code sdt.link.channelQueue} bytes (256 KiB),
 *     every channel once all queues hold {@code sdt.link.queue} (4 MiB); a datagram is dropped once its
 *     channel has {@code DATAGRAM_BACKLOG} queued. This is the only deep queue, and the only one where
 *     frames of different channels can still be put in a fair order;</li>
 * <li>Netty's outbound buffer for the link socket, with water marks ({@code sdt.link.writeBuffer}, the
 *     high mark, 256 KiB; the low mark is half): the scheduler hands frames down only while it is below
 *     the high mark;</li>
 * <li>the kernel's unsent bytes, bounded with {@code TCP_NOTSENT_LOWAT} ({@code sdt.link.notSentLowat},
 *     128 KiB; 0 = the kernel's default, unbounded) where the transport has it.</li>
 * </ol>
 * Bytes in the two lower queues are bytes every frame, a control frame included, waits behind: they are
 * kept to a few TLS records' worth plus what keeps the socket busy.
 */
public final class LinkSockets {

    /** Bytes all channel queues of a link's scheduler may hold before no channel may queue more. */
    public static final int QUEUE = Integer.getInteger("sdt.link.queue", 4 << 20);
    /** Bytes one channel's queue may hold before that channel stops reading its customer socket. */
    public static final int CHANNEL_QUEUE = Integer.getInteger("sdt.link.channelQueue", 256 << 10);
    /** Bytes of its own channel a datagram may wait behind; beyond, it is dropped. */
    public static final int DATAGRAM_BACKLOG = 512 << 10;
    /** High water mark of the link's Netty outbound buffer, below the scheduler. */
    public static final int WRITE_BUFFER = Integer.getInteger("sdt.link.writeBuffer", 256 << 10);
    /** Unsent bytes the link socket's kernel queue may hold before it reports unwritable; 0 = no bound. */
    public static final int NOT_SENT_LOWAT = Integer.getInteger("sdt.link.notSentLowat", 128 << 10);

    private LinkSockets() {
    }

    private static WriteBufferWaterMark marks() {
        return new WriteBufferWaterMark(WRITE_BUFFER / 2, WRITE_BUFFER);
    }

    /** Applies the link socket options to a client bootstrap. */
    public static void client(AbstractBootstrap<?, ?> b, ChannelOption<Long> notSentLowat) {
        b.option(ChannelOption.WRITE_BUFFER_WATER_MARK, marks());
        if (NOT_SENT_LOWAT > 0 && notSentLowat != null) {
            b.option(notSentLowat, (long) NOT_SENT_LOWAT);
        }
    }

    /** Applies the link socket options to the accepted links of a server bootstrap. */
    public static void server(ServerBootstrap b, ChannelOption<Long> notSentLowat) {
        b.childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, marks());
        if (NOT_SENT_LOWAT > 0 && notSentLowat != null) {
            b.childOption(notSentLowat, (long) NOT_SENT_LOWAT);
        }
    }
}
