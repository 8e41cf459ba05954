package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The handler on a channel's local TCP socket: passes what the socket reads and its half-close and
 * close to the {@link StreamChannel}. Runs on the link's event loop, like the stream.
 */
final class StreamRelayHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LogManager.getLogger(StreamRelayHandler.class);

    private final StreamChannel stream;

    StreamRelayHandler(StreamChannel stream) {
        this.stream = stream;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            stream.onLocalData(buf);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        stream.onLocalReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            stream.onLocalInputEnded();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: local socket failed: {}", stream, cause.getMessage());
        stream.onLocalFailed();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stream.onLocalClosed();
    }
}
