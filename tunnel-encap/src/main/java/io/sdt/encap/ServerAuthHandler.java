package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.core.secret.SharedSecret;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Server side of the authentication exchange ({@link AuthWire}), one per accepted TCP connection on
 * listen-port: sends a fresh challenge, checks the client's proof in constant time and its nonce against
 * the {@link ReplayGuard}, then asks {@link Admission} to store the peer's (saddr, sport). Answers ACCEPT
 * (with the server's proof) or REJECT, then closes the connection; a timeout or any extra byte rejects.
 * Confined to the child channel's event loop; the decoder releases what it reads, the peer's socket
 * releases what we write.
 */
final class ServerAuthHandler extends ByteToMessageDecoder {

    private static final Logger log = LogManager.getLogger(ServerAuthHandler.class);

    /** Stores an authenticated peer in the connection_store. */
    interface Admission {
        /** @return the address generated for {@code peer}, or {@code null} if none could be given */
        String admit(Endpoint peer);
    }

    private final SharedSecret secret;
    private final ReplayGuard replays;
    private final Admission admission;
    private final TunStats stats;
    private final SecureRandom random;
    private final Duration timeout;
    private byte[] serverNonce;
    private boolean done;
    private ScheduledFuture<?> timer;

    ServerAuthHandler(SharedSecret secret, ReplayGuard replays, Admission admission, TunStats stats,
                      SecureRandom random, Duration timeout) {
        this.secret = secret;
        this.replays = replays;
        this.admission = admission;
        this.stats = stats;
        this.random = random;
        this.timeout = timeout;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        serverNonce = AuthWire.nonce(random);
        ctx.writeAndFlush(AuthWire.message(ctx.alloc(), AuthWire.CHALLENGE, serverNonce));
        timer = ctx.executor().schedule(() -> reject(ctx, "timed out"), timeout.toMillis(), TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (done) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() > AuthWire.RESPONSE_LENGTH) {
            in.skipBytes(in.readableBytes());
            reject(ctx, "more bytes than a response");
            return;
        }
        if (in.readableBytes() < AuthWire.RESPONSE_LENGTH) {
            if (in.readableBytes() >= AuthWire.PREFIX && AuthWire.type(in) != AuthWire.RESPONSE) {
                in.skipBytes(in.readableBytes());
                reject(ctx, "not an authentication response");
            }
            return;
        }
        int type = AuthWire.type(in);
        byte[] clientNonce = AuthWire.field(in, AuthWire.PREFIX, AuthWire.NONCE);
        byte[] proof = AuthWire.field(in, AuthWire.PREFIX + AuthWire.NONCE, AuthWire.PROOF);
        in.skipBytes(AuthWire.RESPONSE_LENGTH);
        byte[] nonce = serverNonce;
        serverNonce = null; // single use
        if (type != AuthWire.RESPONSE || nonce == null) {
            reject(ctx, "not an authentication response");
        } else if (!AuthWire.same(AuthWire.clientProof(secret, nonce, clientNonce), proof)) {
            reject(ctx, "wrong proof (different secret?)");
        } else if (!replays.firstUse(clientNonce)) {
            reject(ctx, "replayed client nonce");
        } else {
            Endpoint peer = Endpoint.of((InetSocketAddress) ctx.channel().remoteAddress());
            String generated = admission.admit(peer);
            if (generated == null) {
                reject(ctx, "no address available for the peer");
                return;
            }
            finish();
            stats.authAccepted();
            log.info("peer {} authenticated; its address in the TUN is {}", peer, generated);
            ctx.writeAndFlush(AuthWire.message(ctx.alloc(), AuthWire.ACCEPT,
                    AuthWire.serverProof(secret, nonce, clientNonce))).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void reject(ChannelHandlerContext ctx, String why) {
        if (done) {
            return;
        }
        finish();
        stats.authRejected();
        log.info("authentication from {} rejected: {}", ctx.channel().remoteAddress(), why);
        ctx.writeAndFlush(AuthWire.message(ctx.alloc(), AuthWire.REJECT, new byte[AuthWire.PROOF]))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private void finish() {
        done = true;
        serverNonce = null;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!done) {
            finish();
            stats.authRejected();
            log.debug("authentication from {} abandoned: connection closed", ctx.channel().remoteAddress());
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("authentication connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        finish();
        ctx.close();
    }
}
