package io.sdt.core.link;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Client side of link authentication: sends HELLO once TLS is up, checks the server's proof against
 * the certificate it actually sees, answers with its own proof, and completes {@code result} with
 * the {@link Link} on AUTH_OK. A server that cannot prove the token fails {@code result} with an
 * {@link AuthException}. Confined to the connection's event loop.
 */
final class ClientHandshakeHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LogManager.getLogger(ClientHandshakeHandler.class);

    private enum State { TLS, CHALLENGE, AUTH_OK, DONE }

    private final Token token;
    private final LinkSettings settings;
    private final NodeStats stats;
    private final LinkHooks hooks;
    private final Promise<Link> result;
    private State state = State.TLS;
    private byte[] clientNonce;
    private ScheduledFuture<?> timeout;

    ClientHandshakeHandler(Token token, LinkSettings settings, NodeStats stats, LinkHooks hooks, Promise<Link> result) {
        this.token = token;
        this.settings = settings;
        this.stats = stats;
        this.hooks = hooks;
        this.result = result;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (state != State.DONE) {
                stats.handshakeFailure();
                result.tryFailure(new TimeoutException("link handshake timed out after "
                        + settings.handshakeTimeout().toMillis() + " ms"));
                ctx.close();
            }
        }, settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (!e.isSuccess()) {
                if (state == State.TLS) {
                    stats.handshakeFailure();
                }
                finish(ctx, new IOException("TLS handshake failed: " + e.cause().getMessage(), e.cause()));
                return;
            }
            String alpn = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            if (!TlsSetup.ALPN.equals(alpn)) {
                stats.handshakeFailure();
                finish(ctx, new IOException("the server does not speak " + TlsSetup.ALPN + " (ALPN " + alpn + ")"));
                return;
            }
            clientNonce = Proofs.nonce();
            state = State.CHALLENGE;
            ctx.writeAndFlush(new Frame.Hello(Frame.VERSION, clientNonce));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case Frame.Challenge c when state == State.CHALLENGE -> onChallenge(ctx, c);
                case Frame.AuthOk ok when state == State.AUTH_OK -> onAuthOk(ctx);
                case Frame.GoAway g -> {
                    stats.authFailure();
                    Exception cause = g.code() == ErrorCode.AUTH_FAILED
                            ? new AuthException("the server rejected the token (" + g.message() + ")")
                            : new IOException("the server closed the link: " + g.message());
                    finish(ctx, cause);
                }
                default -> {
                    stats.protocolError();
                    finish(ctx, new IOException("protocol violation: unexpected " + msg + " during the handshake"));
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onChallenge(ChannelHandlerContext ctx, Frame.Challenge challenge) {
        byte[] binding;
        try {
            Certificate[] peer = ctx.pipeline().get(SslHandler.class).engine().getSession().getPeerCertificates();
            binding = Proofs.serverEndPoint(peer[0].getEncoded());
        } catch (IOException | CertificateEncodingException e) {
            finish(ctx, new IOException("cannot read the server certificate: " + e.getMessage(), e));
            return;
        }
        byte[] expected = Proofs.proof(token, Proofs.SERVER_LABEL, binding, clientNonce, challenge.nonce());
        byte[] ours = Proofs.proof(token, Proofs.CLIENT_LABEL, binding, clientNonce, challenge.nonce());
        if (!Proofs.matches(expected, challenge.proof())) {
            // Still send our proof, so the server can report the mismatch too; it is bound to the
            // certificate we saw, so it is useless to anyone relaying it elsewhere.
            stats.authFailure();
            ctx.writeAndFlush(new Frame.Auth(ours));
            finish(ctx, new AuthException("the server could not prove it knows the token: the tokens differ,"
                    + " or a man in the middle is relaying the link"));
            return;
        }
        state = State.AUTH_OK;
        ctx.writeAndFlush(new Frame.Auth(ours));
    }

    private void onAuthOk(ChannelHandlerContext ctx) {
        state = State.DONE;
        timeout.cancel(false);
        Link link = new Link(ctx.channel(), true, settings, stats, hooks);
        ctx.pipeline().addBefore(PipelineNames.AUTH, PipelineNames.IDLE, Heartbeat.idleDetector(settings));
        ctx.pipeline().replace(this, PipelineNames.LINK, new LinkHandler(link));
        if (result.trySuccess(link)) {
            link.onUp();
        } else {
            ctx.close();
        }
    }

    private void finish(ChannelHandlerContext ctx, Exception cause) {
        state = State.DONE;
        if (timeout != null) {
            timeout.cancel(false);
        }
        result.tryFailure(cause);
        ctx.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("link handshake failed", cause);
        if (state == State.TLS) {
            stats.handshakeFailure();
        }
        finish(ctx, cause instanceof Exception e ? e : new IOException(cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        result.tryFailure(new IOException("the server closed the connection during the handshake"));
        ctx.fireChannelInactive();
    }
}
