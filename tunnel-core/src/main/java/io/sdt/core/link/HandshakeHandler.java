package io.sdt.core.link;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.core.metrics.NodeStats;

import java.util.concurrent.TimeUnit;

/**
 * What the two sides of link authentication share: the deadline for TLS plus authentication, the checks
 * on TLS completion (success, ALPN {@value TlsSetup#ALPN_EARLY} or {@value TlsSetup#ALPN}), releasing every
 * frame read, and the switch of the pipeline from {@code auth} to {@code idle -> link} once authenticated
 * ({@link PipelineNames}).
 * Subclasses speak their side of the exchange. Confined to the connection's event loop.
 */
abstract class HandshakeHandler extends ChannelInboundHandlerAdapter {

    final LinkSettings settings;
    final NodeStats stats;
    final LinkHooks hooks;
    private ScheduledFuture<?> timeout;
    private boolean finished;

    HandshakeHandler(LinkSettings settings, NodeStats stats, LinkHooks hooks) {
        this.settings = settings;
        this.stats = stats;
        this.hooks = hooks;
    }

    /** TLS is up and speaks our protocol: the exchange starts. */
    abstract void tlsReady(ChannelHandlerContext ctx);

    /** The TLS handshake failed: count it if it is news, say why and close. */
    abstract void tlsFailed(ChannelHandlerContext ctx, Throwable cause);

    /** TLS is up but the peer does not speak {@value TlsSetup#ALPN} (counted already): say so and close. */
    abstract void wrongProtocol(ChannelHandlerContext ctx, String alpn);

    /** The deadline passed before the exchange ended (counted already): give up and close. */
    abstract void timedOut(ChannelHandlerContext ctx);

    /** A frame of the exchange; the base releases it afterwards. */
    abstract void frame(ChannelHandlerContext ctx, Object msg);

    /** The connection closed before the exchange ended, or after it failed. */
    abstract void closedEarly(ChannelHandlerContext ctx);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (!finished) {
                stats.handshakeFailure();
                timedOut(ctx);
            }
        }, settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (!e.isSuccess()) {
                tlsFailed(ctx, e.cause());
                return;
            }
            String alpn = ((SslHandler) ctx.pipeline().get(PipelineNames.TLS)).applicationProtocol();
            if (!TlsSetup.speaksSdt(alpn)) {
                stats.handshakeFailure();
                wrongProtocol(ctx, alpn);
                return;
            }
            tlsReady(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            frame(ctx, msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stopTimer();
        closedEarly(ctx);
        ctx.fireChannelInactive();
    }

    /** The exchange has ended, one way or the other: the deadline no longer applies. */
    final void stopTimer() {
        finished = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    /** True once {@link #stopTimer} ran. */
    final boolean finished() {
        return finished;
    }

    /**
     * Authenticated: the pipeline becomes {@code ... -> idle -> link} and this handler leaves it.
     * The caller announces the link ({@link Link#onUp()}) once it has sent what it must.
     */
    final Link becomeLink(ChannelHandlerContext ctx, boolean client) {
        stopTimer();
        String alpn = ((SslHandler) ctx.pipeline().get(PipelineNames.TLS)).applicationProtocol();
        boolean early = TlsSetup.ALPN_EARLY.equals(alpn);
        Link link = new Link(ctx.channel(), client, settings, stats, hooks, early);
        ctx.pipeline().addBefore(PipelineNames.AUTH, PipelineNames.IDLE, Heartbeat.idleDetector(settings));
        ctx.pipeline().replace(this, PipelineNames.LINK, new LinkHandler(link));
        return link;
    }
}
