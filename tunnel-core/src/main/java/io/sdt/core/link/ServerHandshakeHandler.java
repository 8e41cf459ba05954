package io.sdt.core.link;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.FrameException;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.security.SecureRandom;

/**
 * Server side of link authentication (docs/PROTOCOL.md): waits for TLS, answers HELLO with
 * CHALLENGE, checks the client's AUTH proof in constant time, then becomes the link. Everything must
 * finish within the handshake timeout; the connection holds one of the server's unauthenticated slots
 * until it authenticates or closes. Confined to the connection's event loop.
 */
final class ServerHandshakeHandler extends HandshakeHandler {

    private static final Logger log = LogManager.getLogger(ServerHandshakeHandler.class);

    private enum State { TLS, HELLO, AUTH, DONE }

    private final Token token;
    private final SecureRandom random;
    private final byte[] binding;
    private final LogBudget noise;
    private final Runnable releaseSlot;
    private State state = State.TLS;
    private byte[] clientNonce;
    private byte[] serverNonce;
    private boolean slotReleased;

    ServerHandshakeHandler(Token token, SecureRandom random, byte[] binding, LinkSettings settings, NodeStats stats,
                           LinkHooks hooks, LogBudget noise, Runnable releaseSlot) {
        super(settings, stats, hooks);
        this.token = token;
        this.random = random;
        this.binding = binding;
        this.noise = noise;
        this.releaseSlot = releaseSlot;
    }

    @Override
    void timedOut(ChannelHandlerContext ctx) {
        noise.log(Level.WARN, "handshake with {} timed out after {} ms in state {}", ctx.channel().remoteAddress(),
                settings.handshakeTimeout().toMillis(), state);
        ctx.close();
    }

    @Override
    void tlsFailed(ChannelHandlerContext ctx, Throwable cause) {
        stats.handshakeFailure();
        noise.log(Level.INFO, "TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.getMessage());
        ctx.close();
    }

    @Override
    void wrongProtocol(ChannelHandlerContext ctx, String alpn) {
        noise.log(Level.INFO, "peer {} does not speak {} (ALPN {}); closing", ctx.channel().remoteAddress(), TlsSetup.ALPN, alpn);
        ctx.close();
    }

    @Override
    void tlsReady(ChannelHandlerContext ctx) {
        state = State.HELLO;
    }

    @Override
    void frame(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case Frame.Hello h when state == State.HELLO -> onHello(ctx, h);
            case Frame.Auth a when state == State.AUTH -> onAuth(ctx, a);
            default -> {
                stats.protocolError();
                noise.log(Level.INFO, "{} sent {} before authenticating; closing", ctx.channel().remoteAddress(), msg);
                ctx.close();
            }
        }
    }

    private void onHello(ChannelHandlerContext ctx, Frame.Hello hello) {
        if (hello.version() != Frame.VERSION) {
            fail(ctx, ErrorCode.UNSUPPORTED, "protocol version " + hello.version() + " is not supported");
            return;
        }
        clientNonce = hello.nonce();
        serverNonce = Proofs.nonce(random);
        byte[] proof = Proofs.proof(token, Proofs.SERVER_LABEL, binding, clientNonce, serverNonce);
        state = State.AUTH;
        ctx.writeAndFlush(new Frame.Challenge(serverNonce, proof));
    }

    private void onAuth(ChannelHandlerContext ctx, Frame.Auth auth) {
        byte[] expected = Proofs.proof(token, Proofs.CLIENT_LABEL, binding, clientNonce, serverNonce);
        if (!Proofs.matches(expected, auth.proof())) {
            stats.authFailure();
            noise.log(Level.WARN, "authentication of {} failed: its proof does not match (the tokens differ, or a man in the middle"
                    + " is relaying the link)", ctx.channel().remoteAddress());
            fail(ctx, ErrorCode.AUTH_FAILED, "authentication failed: the server does not accept this token");
            return;
        }
        state = State.DONE;
        releaseSlot();
        Link link = becomeLink(ctx, false);
        ctx.writeAndFlush(new Frame.AuthOk());
        log.info("{}: client authenticated", link);
        link.onUp();
    }

    private void fail(ChannelHandlerContext ctx, ErrorCode code, String message) {
        state = State.DONE;
        stopTimer();
        ctx.writeAndFlush(new Frame.GoAway(code, message)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof FrameException) {
            stats.protocolError();
        }
        noise.log(Level.INFO, "connection from {} failed before authentication: {}", ctx.channel().remoteAddress(), cause.getMessage());
        ctx.close();
    }

    @Override
    void closedEarly(ChannelHandlerContext ctx) {
        releaseSlot();
    }

    private void releaseSlot() {
        if (!slotReleased) {
            slotReleased = true;
            releaseSlot.run();
        }
    }
}
