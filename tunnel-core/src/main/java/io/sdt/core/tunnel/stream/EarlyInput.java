package io.sdt.core.tunnel.stream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Keeps what an accepted socket reads before its handlers are in place, and hands it on, in order, when it
 * is removed. With AUTO_READ off nothing is asked for, but epoll and io_uring read a socket whose peer has
 * already half-closed (RDHUP) as soon as it is registered: a customer that wrote and shut its output before
 * the listener handed its socket to the link's loop would otherwise lose those bytes (and the FIN) to the
 * pipeline's tail, and its target would see an empty stream. Added before registration, removed once the
 * tunnel's handlers are added behind it. Bounded by the socket's receive buffer: nothing more is read.
 */
final class EarlyInput extends ChannelInboundHandlerAdapter {

    static final String NAME = "early-input";

    private final Queue<Object> held = new ArrayDeque<>(2);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        held.add(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // what was read goes on with the rest, at removal
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            held.add(evt); // after the bytes read before it
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held.isEmpty()) {
            return;
        }
        if (!ctx.channel().isOpen()) {
            held.forEach(ReferenceCountUtil::release);
            held.clear();
            return;
        }
        boolean read = false;
        for (Object o; (o = held.poll()) != null; ) {
            if (o instanceof ChannelInputShutdownEvent evt) {
                if (read) {
                    ctx.fireChannelReadComplete();
                    read = false;
                }
                ctx.fireUserEventTriggered(evt);
            } else {
                ctx.fireChannelRead(o);
                read = true;
            }
        }
        if (read) {
            ctx.fireChannelReadComplete();
        }
    }
}
