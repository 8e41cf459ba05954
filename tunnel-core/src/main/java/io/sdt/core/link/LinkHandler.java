package io.sdt.core.link;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.Frame;
import io.sdt.codec.FrameException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;

/**
 * The last handler of an authenticated link: hands frames to the {@link Link}, turns read
 * idleness into dead-link detection ({@link Heartbeat} sends the PINGs), and flushes local
 * sockets once per read burst. Confined to
 * the link's event loop.
 */
final class LinkHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LogManager.getLogger(LinkHandler.class);

    private final Link link;

    LinkHandler(Link link) {
        this.link = link;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Frame frame) {
            link.onFrame(frame);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        link.flushLocals();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            link.onWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent idle) {
            if (idle.state() == IdleState.READER_IDLE) {
                log.warn("{}: nothing heard for {} s; declaring the link dead", link,
                        link.settings().idleTimeout().toSeconds());
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof FrameException fe) {
            link.stats().protocolError();
            log.warn("{}: protocol violation: {}; closing the link", link, fe.getMessage());
        } else if (cause instanceof IOException || cause.getCause() instanceof IOException) {
            log.info("{}: link failed: {}", link, cause.getMessage());
        } else {
            log.warn("{}: unexpected error; closing the link", link, cause);
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        link.onClosed();
        ctx.fireChannelInactive();
    }
}
