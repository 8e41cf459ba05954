package io.sdt.core.tunnel.stream;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.sdt.core.link.LinkSettings;

/**
 * Options of the customers' TCP sockets (both accepted and connected): no auto-read (the stream
 * pulls when it has credit), half-closure allowed, no Nagle, reads of at most one DATA payload.
 */
final class LocalSockets {

    private LocalSockets() {
    }

    static AdaptiveRecvByteBufAllocator allocator(LinkSettings settings) {
        AdaptiveRecvByteBufAllocator a = new AdaptiveRecvByteBufAllocator(512, 16 * 1024, settings.maxDataPayload());
        a.maxMessagesPerRead(4);
        return a;
    }

    static void configure(AbstractBootstrap<?, ?> b, LinkSettings settings) {
        b.option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, allocator(settings));
    }

    /**
     * Ends the socket with a reset (RST) instead of a FIN: linger 0, then close. How a stream that ended
     * abnormally (link lost, the far socket reset) tells its customer or target that what it got is
     * not the whole stream: an application without its own framing would take a FIN for completion.
     */
    static void reset(Channel ch) {
        if (ch.isOpen()) {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
            ch.close();
        }
    }

    static void configure(Channel ch, LinkSettings settings) {
        ChannelConfig c = ch.config();
        c.setAutoRead(false);
        c.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        c.setOption(ChannelOption.TCP_NODELAY, true);
        c.setRecvByteBufAllocator(allocator(settings));
    }
}
