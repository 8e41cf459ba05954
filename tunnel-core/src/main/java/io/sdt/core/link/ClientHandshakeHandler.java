package io.sdt.core.link;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.util.concurrent.TimeoutException;

/**
 * Client side of link authentication: sends HELLO once TLS is up, checks the server's proof against
 * the certificate it actually sees, answers with its own proof, and completes {@code result} with
 * the {@link Link} on AUTH_OK. A server that cannot prove the token fails {@code result} with an
 * {@link AuthException}. Confined to the connection's event loop.
 */
final class ClientHandshakeHandler extends HandshakeHandler {

    private static final Logger log = LogManager.getLogger(ClientHandshakeHandler.class);

    private enum State { TLS, CHALLENGE, AUTH_OK, DONE }

    private final Token token;
    private final SecureRandom random;
    private final Promise<Link> result;
    private State state = State.TLS;
    private byte[] clientNonce;

    ClientHandshakeHandler(Token token, SecureRandom random, LinkSettings settings, NodeStats stats, LinkHooks hooks,
                           Promise<Link> result) {
        super(settings, stats, hooks);
        this.token = token;
        this.random = random;
        this.result = result;
    }

    @Override
    void timedOut(ChannelHandlerContext ctx) {
        result.tryFailure(new TimeoutException("link handshake timed out after "
                + settings.handshakeTimeout().toMillis() + " ms"));
        ctx.close();
    }

    @Override
    void tlsFailed(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.TLS) {
            stats.handshakeFailure();
        }
        finish(ctx, new IOException("TLS handshake failed: " + cause.getMessage(), cause));
    }

    @Override
    void wrongProtocol(ChannelHandlerContext ctx, String alpn) {
        finish(ctx, new IOException("the server does not speak " + TlsSetup.ALPN + " (ALPN " + alpn + ")"));
    }

    @Override
    void tlsReady(ChannelHandlerContext ctx) {
        clientNonce = Proofs.nonce(random);
        state = State.CHALLENGE;
        ctx.writeAndFlush(new Frame.Hello(Frame.VERSION, clientNonce));
    }

    @Override
    void frame(ChannelHandlerContext ctx, Object msg) {
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
    }

    private void onChallenge(ChannelHandlerContext ctx, Frame.Challenge challenge) {
        byte[] binding;
        try {
            Certificate[] peer = ((SslHandler) ctx.pipeline().get(PipelineNames.TLS)).engine().getSession().getPeerCertificates();
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
        Link link = becomeLink(ctx, true);
        if (result.trySuccess(link)) {
            link.onUp();
        } else {
            ctx.close();
        }
    }

    private void finish(ChannelHandlerContext ctx, Exception cause) {
        state = State.DONE;
        stopTimer();
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
    void closedEarly(ChannelHandlerContext ctx) {
        result.tryFailure(new IOException("the server closed the connection during the handshake"));
    }
}
