package io.sdt.core.link;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.Level;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * First in an accepted link connection's pipeline: closes the connection if it sends nothing within the
 * deadline (a real client sends its TLS ClientHello as soon as it is connected), and tells its
 * {@link WaitingRoom.Ticket} when the first byte came, then leaves the pipeline. Confined to the
 * connection's event loop.
 */
final class FirstByteDeadline extends ChannelInboundHandlerAdapter {

    private final WaitingRoom.Ticket ticket;
    private final Duration deadline;
    private final NodeStats stats;
    private final LogBudget noise;
    private ScheduledFuture<?> timer;

    FirstByteDeadline(WaitingRoom.Ticket ticket, Duration deadline, NodeStats stats, LogBudget noise) {
        this.ticket = ticket;
        this.deadline = deadline;
        this.stats = stats;
        this.noise = noise;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            if (ctx.channel().isActive()) {
                stats.handshakeFailure();
                noise.log(Level.INFO, "closing {}: it sent nothing in {} ms", ctx.channel().remoteAddress(),
                        deadline.toMillis());
                ctx.close();
            }
        }, deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        timer.cancel(false);
        ticket.spoke();
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer.cancel(false);
        ctx.fireChannelInactive();
    }
}
