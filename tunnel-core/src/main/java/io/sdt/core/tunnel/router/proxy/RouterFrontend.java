package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Router mode on one accepted customer socket: detects the protocol from the first byte (0x05 SOCKS5,
 * an ASCII capital HTTP CONNECT, 0x04 SOCKS4 which is refused with 0x5B, anything else closes), runs
 * the handshake under a timeout, then asks the {@link ProxyBackend}. On {@link ConnectResult#succeeded()}
 * it writes the success reply and removes itself, handing the customer's leftover bytes to the caller;
 * on failure it writes the refusal and closes. For a SOCKS5 UDP ASSOCIATE it stays, reading and
 * discarding the control connection so that its end (which ends the association) is seen.
 *
 * <p>The socket must have AUTO_READ off; this handler calls {@code read()} only while it needs bytes
 * (or while it discards them for an association). One instance per socket. Confined to the socket's
 * event loop. Buffers: received bytes are merged into one buffer owned here until it is handed over by
 * {@code succeeded()} or released when the handshake ends, fails or the handler is removed; replies are
 * released by their writes. No exception leaves this handler; it logs at DEBUG only.
 *
 * <p>Longer than a handler should be because it owns the customer socket's whole life before the relay
 * (detection, deadline, the buffer, and three outcomes: connect, associate, refuse); the protocols
 * themselves are {@link Socks5Handshake} and {@link HttpConnectHandshake}.
 */
public final class RouterFrontend extends ChannelInboundHandlerAdapter {

    private static final Logger log = LogManager.getLogger(RouterFrontend.class);
    private static final int SOCKS4 = 4;

    private enum State { NEW, HANDSHAKE, WAITING, ASSOCIATED, CLOSING, HANDED_OVER }

    private final RouterSettings settings;
    private final ProxyBackend backend;
    private final RouterStats stats;
    private ChannelHandlerContext ctx;
    private State state = State.NEW;
    private ByteBuf buffer;
    private Handshake handshake;
    private ScheduledFuture<?> timeout;

    public RouterFrontend(RouterSettings settings, ProxyBackend backend, RouterStats stats) {
        this.settings = settings;
        this.backend = backend;
        this.stats = stats;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (state != State.NEW) {
            return;
        }
        state = State.HANDSHAKE;
        timeout = ctx.executor().schedule(this::timedOut, settings.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ctx.read();
    }

    private void timedOut() {
        if (state == State.HANDSHAKE) {
            stats.handshakeTimeout();
            abort("handshake timed out");
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in) || (state != State.HANDSHAKE && state != State.WAITING)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        // while WAITING, what arrives becomes part of the leftover
        buffer = buffer == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), buffer, in);
        if (state != State.HANDSHAKE) {
            return;
        }
        try {
            if (handshake == null) {
                handshake = detect(buffer);
            }
            if (handshake != null) {
                handshake.decode(buffer);
            }
        } catch (RuntimeException e) {
            log.debug("{}: handshake failed", ctx.channel(), e);
            stats.malformed();
            abort("handshake failed: " + e);
        }
    }

    private Handshake detect(ByteBuf in) {
        int first = in.getUnsignedByte(in.readerIndex());
        if (first == Socks5Handshake.VERSION) {
            return new Socks5Handshake(this);
        }
        if (first >= 'A' && first <= 'Z') {
            return new HttpConnectHandshake(this);
        }
        if (first == SOCKS4) {
            stats.unsupportedCommand();
            // SOCKS4 reply: VN 0, CD 0x5B (rejected or failed), port and address unused
            refuse(alloc().buffer(8).writeByte(0).writeByte(0x5B).writeZero(6));
        } else {
            stats.malformed();
            abort("unknown protocol, first byte " + first);
        }
        return null;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.HANDSHAKE || state == State.ASSOCIATED) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && (state == State.HANDSHAKE || state == State.ASSOCIATED)) {
            abort("customer closed its output");
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: {}", ctx.channel(), cause.toString());
        abort("socket error");
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        end();
    }

    /** Final state (unless handed over): no timer, no buffer. Safe to call more than once. */
    private void end() {
        if (state != State.HANDED_OVER) {
            state = State.CLOSING;
        }
        cancelTimeout();
        releaseBuffer();
    }

    // ---- called by the handshake, each ending it (see Handshake) ----

    void connect(HostPort target) {
        state = State.WAITING;
        cancelTimeout();
        Result result = new Result(target);
        try {
            backend.connect(ctx.channel(), target, result);
        } catch (RuntimeException e) {
            log.debug("{}: backend failed to connect {}", ctx.channel(), target, e);
            if (!result.answered) {
                result.failed(ErrorCode.GENERAL, e.toString());
            }
        }
    }

    void associate(HostPort hint) {
        state = State.WAITING;
        cancelTimeout();
        UdpAssociation association = new UdpAssociation(ctx.channel(), hint, stats);
        association.bind(settings.datagramChannel()).addListener(f -> associated(association, f));
    }

    private void associated(UdpAssociation association, Future<?> bound) {
        if (state != State.WAITING) {
            return;
        }
        if (!bound.isSuccess()) {
            log.debug("{}: cannot bind a UDP association: {}", ctx.channel(), bound.cause().toString());
            refuse(handshake.refusal(ErrorCode.GENERAL));
            return;
        }
        UdpAssociation.Sink sink;
        try {
            sink = backend.associate(association);
        } catch (RuntimeException e) {
            log.debug("{}: backend failed to associate", ctx.channel(), e);
            refuse(handshake.refusal(ErrorCode.GENERAL));
            return;
        }
        if (sink == null) {
            refuse(handshake.refusal(ErrorCode.DENIED));
            return;
        }
        association.start(sink);
        state = State.ASSOCIATED;
        releaseBuffer();
        ctx.writeAndFlush(handshake.success(association.localAddress())).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        ctx.read();
    }

    /** Writes {@code reply}, then closes; discards everything read from now on. */
    void refuse(ByteBuf reply) {
        end();
        ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes without a reply. */
    void abort(String why) {
        debug(why);
        end();
        ctx.close();
    }

    /** Writes an intermediate reply (method selection, auth status); the handshake goes on. */
    void write(ByteBuf reply) {
        ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    void debug(String why) {
        log.debug("{}: {}", ctx.channel(), why);
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    RouterStats stats() {
        return stats;
    }

    ProxyAuth auth() {
        return settings.auth();
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    private void releaseBuffer() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }

    /** The backend's answer for one CONNECT. */
    private final class Result implements ConnectResult {
        private final HostPort target;
        private boolean answered;

        Result(HostPort target) {
            this.target = target;
        }

        private void once() {
            if (!ctx.executor().inEventLoop()) {
                throw new IllegalStateException("ConnectResult must be called on the socket's event loop");
            }
            if (answered) {
                throw new IllegalStateException("ConnectResult already answered");
            }
            answered = true;
        }

        @Override
        public ByteBuf succeeded() {
            once();
            if (state != State.WAITING) {
                if (!ctx.isRemoved()) {
                    ctx.pipeline().remove(RouterFrontend.this);
                }
                return Unpooled.EMPTY_BUFFER;
            }
            ctx.writeAndFlush(handshake.success(ctx.channel().localAddress()))
                    .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            ByteBuf left = buffer;
            buffer = null;
            state = State.HANDED_OVER;
            ctx.pipeline().remove(RouterFrontend.this);
            if (left == null || !left.isReadable()) {
                if (left != null) {
                    left.release();
                }
                return Unpooled.EMPTY_BUFFER;
            }
            return left;
        }

        @Override
        public void failed(ErrorCode code, String message) {
            once();
            log.debug("{}: {} failed: {} {}", ctx.channel(), target, code, message);
            if (state == State.WAITING) {
                refuse(handshake.refusal(code));
            }
        }
    }
}
