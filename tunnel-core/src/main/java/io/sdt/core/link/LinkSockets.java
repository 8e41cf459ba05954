package io.sdt.core.link;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;

/**
 * How a link's own TCP socket queues what it sends, on both nodes. Netty's outbound buffer for the link
 * has water marks ({@code sdt.link.writeBuffer}, the high mark; the low mark is a quarter): above the
 * high mark the link is unwritable and customer sockets are not read. Below Netty, the kernel's
 * unsent bytes are bounded with {@code TCP_NOTSENT_LOWAT} ({@code sdt.link.notSentLowat}, 0 = the
 * kernel's default, unbounded) where the transport has it: bytes the kernel holds unsent are bytes
 * every other channel's frames wait behind.
 */
public final class LinkSockets {

    /** High water mark of the link's Netty outbound buffer. */
    public static final int WRITE_BUFFER = Integer.getInteger("sdt.link.writeBuffer", 4 << 20);
    /** Unsent bytes the link socket's kernel queue may hold before it reports unwritable; 0 = no bound. */
    public static final int NOT_SENT_LOWAT = Integer.getInteger("sdt.link.notSentLowat", 0);

    private LinkSockets() {
    }

    private static WriteBufferWaterMark marks() {
        return new WriteBufferWaterMark(WRITE_BUFFER / 4, WRITE_BUFFER);
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
