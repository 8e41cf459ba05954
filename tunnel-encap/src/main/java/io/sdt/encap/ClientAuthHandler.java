package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.core.secret.SharedSecret;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Client side of the authentication exchange ({@link AuthWire}) on one TCP connection from listen-port to
 * the destination's endpoint-port: answers the challenge with a proof, checks the server's proof, and
 * completes {@code result} (success only on a valid ACCEPT). Then it closes with {@code SO_LINGER 0} so the
 * fixed source port is not held in TIME_WAIT. Confined to the channel's event loop; the decoder releases
 * what it reads.
 */
final class ClientAuthHandler extends ByteToMessageDecoder {

    private final SharedSecret secret;
    private final Promise<Void> result;
    private final SecureRandom random;
    private final Duration timeout;
    private byte[] serverNonce;
    private byte[] clientNonce;
    private ScheduledFuture<?> timer;

    ClientAuthHandler(SharedSecret secret, Promise<Void> result, SecureRandom random, Duration timeout) {
        this.secret = secret;
        this.result = result;
        this.random = random;
        this.timeout = timeout;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        timer = ctx.executor().schedule(() -> fail(ctx, "timed out"), timeout.toMillis(), TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (result.isDone()) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() >= AuthWire.PREFIX && AuthWire.type(in) < 0) {
            in.skipBytes(in.readableBytes());
            fail(ctx, "not an udp-encap-tun server");
            return;
        }
        int need = serverNonce == null ? AuthWire.CHALLENGE_LENGTH : AuthWire.VERDICT_LENGTH;
        if (in.readableBytes() < need) {
            return;
        }
        int type = AuthWire.type(in);
        byte[] body = AuthWire.field(in, AuthWire.PREFIX, AuthWire.NONCE);
        in.skipBytes(need);
        if (serverNonce == null) {
            if (type != AuthWire.CHALLENGE || in.isReadable()) {
                fail(ctx, "unexpected message instead of a challenge");
                return;
            }
            serverNonce = body;
            clientNonce = AuthWire.nonce(random);
            ctx.writeAndFlush(AuthWire.message(ctx.alloc(), AuthWire.RESPONSE, clientNonce,
                    AuthWire.clientProof(secret, serverNonce, clientNonce)));
        } else if (type == AuthWire.REJECT) {
            fail(ctx, "rejected by the server (wrong secret?)");
        } else if (type != AuthWire.ACCEPT) {
            fail(ctx, "unexpected message instead of a verdict");
        } else if (!AuthWire.same(AuthWire.serverProof(secret, serverNonce, clientNonce), body)) {
            fail(ctx, "the server's proof is wrong (it does not know the secret)");
        } else {
            end(ctx);
            result.trySuccess(null);
        }
    }

    private void fail(ChannelHandlerContext ctx, String why) {
        end(ctx);
        result.tryFailure(new AuthFailure(why));
    }

    private void end(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (timer != null) {
            timer.cancel(false);
        }
        result.tryFailure(new AuthFailure("connection closed before the verdict"));
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause.toString());
    }

    /** Why authentication failed; no stack trace (it is an expected outcome). */
    static final class AuthFailure extends Exception {
        AuthFailure(String message) {
            super(message, null, false, false);
        }
    }
}
