package io.sdt.core.link;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.FrameException;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.TimeUnit;

/**
 * Server side of link authentication (docs/PROTOCOL.md): waits for TLS, answers HELLO with
 * CHALLENGE, checks the client's AUTH proof in constant time, then replaces itself with the
 * {@link LinkHandler}. Everything must finish within the handshake timeout. Confined to the
 * connection's event loop.
 */
final class ServerHandshakeHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LogManager.getLogger(ServerHandshakeHandler.class);

    private enum State { TLS, HELLO, AUTH, DONE }

    private final Token token;
    private final byte[] binding;
    private final LinkSettings settings;
    private final NodeStats stats;
    private final LinkHooks hooks;
    private final Runnable releaseSlot;
    private State state = State.TLS;
    private byte[] clientNonce;
    private byte[] serverNonce;
    private ScheduledFuture<?> timeout;
    private boolean slotReleased;

    ServerHandshakeHandler(Token token, byte[] binding, LinkSettings settings, NodeStats stats, LinkHooks hooks,
                           Runnable releaseSlot) {
        this.token = token;
        this.binding = binding;
        this.settings = settings;
        this.stats = stats;
        this.hooks = hooks;
        this.releaseSlot = releaseSlot;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (state != State.DONE) {
                stats.handshakeFailure();
                log.warn("handshake with {} timed out after {} ms in state {}", ctx.channel().remoteAddress(),
                        settings.handshakeTimeout().toMillis(), state);
                ctx.close();
            }
        }, settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (!e.isSuccess()) {
                stats.handshakeFailure();
                log.info("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), e.cause().getMessage());
                ctx.close();
                return;
            }
            String alpn = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            if (!TlsSetup.ALPN.equals(alpn)) {
                stats.handshakeFailure();
                log.info("peer {} does not speak {} (ALPN {}); closing", ctx.channel().remoteAddress(), TlsSetup.ALPN, alpn);
                ctx.close();
                return;
            }
            state = State.HELLO;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case Frame.Hello h when state == State.HELLO -> onHello(ctx, h);
                case Frame.Auth a when state == State.AUTH -> onAuth(ctx, a);
                default -> {
                    stats.protocolError();
                    log.info("{} sent {} before authenticating; closing", ctx.channel().remoteAddress(), msg);
                    ctx.close();
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHello(ChannelHandlerContext ctx, Frame.Hello hello) {
        if (hello.version() != Frame.VERSION) {
            fail(ctx, ErrorCode.UNSUPPORTED, "protocol version " + hello.version() + " is not supported");
            return;
        }
        clientNonce = hello.nonce();
        serverNonce = Proofs.nonce();
        byte[] proof = Proofs.proof(token, Proofs.SERVER_LABEL, binding, clientNonce, serverNonce);
        state = State.AUTH;
        ctx.writeAndFlush(new Frame.Challenge(serverNonce, proof));
    }

    private void onAuth(ChannelHandlerContext ctx, Frame.Auth auth) {
        byte[] expected = Proofs.proof(token, Proofs.CLIENT_LABEL, binding, clientNonce, serverNonce);
        if (!Proofs.matches(expected, auth.proof())) {
            stats.authFailure();
            log.warn("authentication of {} failed: its proof does not match (the tokens differ, or a man in the middle"
                    + " is relaying the link)", ctx.channel().remoteAddress());
            fail(ctx, ErrorCode.AUTH_FAILED, "authentication failed: the server does not accept this token");
            return;
        }
        state = State.DONE;
        timeout.cancel(false);
        releaseSlot();
        Link link = new Link(ctx.channel(), false, settings, stats, hooks);
        ctx.pipeline().addBefore(PipelineNames.AUTH, PipelineNames.IDLE, Heartbeat.idleDetector(settings));
        ctx.pipeline().replace(this, PipelineNames.LINK, new LinkHandler(link));
        ctx.writeAndFlush(new Frame.AuthOk());
        log.info("{}: client authenticated", link);
        link.onUp();
    }

    private void fail(ChannelHandlerContext ctx, ErrorCode code, String message) {
        state = State.DONE;
        timeout.cancel(false);
        ctx.writeAndFlush(new Frame.GoAway(code, message)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof FrameException) {
            stats.protocolError();
        }
        log.info("connection from {} failed before authentication: {}", ctx.channel().remoteAddress(), cause.getMessage());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        releaseSlot();
        ctx.fireChannelInactive();
    }

    private void releaseSlot() {
        if (!slotReleased) {
            slotReleased = true;
            releaseSlot.run();
        }
    }
}
