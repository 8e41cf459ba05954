package io.sdt.core.tunnel.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DuplexChannel;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.link.PipelineNames;
import io.sdt.core.metrics.Mode;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.router.ConnectResult;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.ArrayDeque;

/**
 * One TCP channel of a link: a local socket on one node relayed to a local socket on the other.
 * The same class serves the ingress (which accepted the socket and sent OPEN) and the egress (which
 * received OPEN and connected), so local and remote forwarding are one code path.
 *
 * <p>Flow control: this side sends at most {@code sendCredit} payload bytes, the window the peer
 * advertised plus the WINDOW increments since; the local socket is read (AUTO_READ off) only while
 * there is credit and the link is writable. Bytes from the peer are written to the local socket and
 * credited back with WINDOW only once that write has completed, so a slow local reader stalls its own
 * channel and nothing else. Bytes one socket read brought beyond the credit wait in {@code held}.
 *
 * <p>Half-close: the local socket's FIN becomes EOF; the peer's EOF becomes {@code shutdownOutput()}
 * after the pending writes. The local socket closes once both directions have ended, or at a CLOSE.
 *
 * <p>Confined to the link's event loop; the local socket is registered on the same loop. Buffers:
 * a payload from the link is released by the socket write; a buffer read locally is released by the
 * link write, or here if the channel is gone.
 */
public final class StreamChannel implements LinkChannel {

    private static final Logger log = LogManager.getLogger(StreamChannel.class);

    private enum State { OPENING, CONNECTING, OPEN, CLOSED }

    private final Link link;
    private final int id;
    private final Tunnel tunnel;
    private final int window;
    private final int creditThreshold;
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>(4);
    private Channel socket;
    private State state;
    private long sendCredit;
    private long unacked;
    private int consumed;
    private int heldBytes;
    private boolean inputEnded;
    private boolean eofSent;
    private boolean eofReceived;
    private boolean outputShut;
    private boolean flushRequested;
    /** Router mode: answers the customer's SOCKS5 / HTTP CONNECT request when OPEN is answered. */
    private ConnectResult opener;
    /** Ingress: when OPEN went out ({@code NodeStats.openSent()}). */
    private long openSentAt;

    private StreamChannel(Link link, int id, Tunnel tunnel, State state) {
        this.link = link;
        this.id = id;
        this.tunnel = tunnel;
        this.state = state;
        this.window = link.settings().window();
        this.creditThreshold = Math.max(1, window / 4);
    }

    /**
     * Starts the ingress of an accepted socket already registered on the link's event loop: sends
     * OPEN and reads nothing before OPEN_OK. The tunnel slot must have been acquired.
     */
    public static void ingress(Link link, Channel socket, Tunnel tunnel, int tunnelId, HostPort target) {
        ingress(link, socket, tunnel, tunnelId, target, null);
    }

    /**
     * The ingress of a router-mode customer whose request named {@code target}: like
     * {@link #ingress(Link, Channel, Tunnel, int, HostPort)}, and when the peer answers OPEN the
     * {@code opener} writes the protocol's reply (success, or the refusal that matches the error).
     * The bytes the customer sent after its request are forwarded first.
     */
    public static void ingress(Link link, Channel socket, Tunnel tunnel, int tunnelId, HostPort target,
                               ConnectResult opener) {
        if (link.isClosed()) {
            tunnel.release();
            if (opener != null) {
                opener.failed(ErrorCode.SHUTDOWN, "no link");
            } else {
                socket.close();
            }
            return;
        }
        StreamChannel sc = new StreamChannel(link, link.allocateChannelId(), tunnel, State.OPENING);
        sc.opener = opener;
        sc.socket = socket;
        link.register(sc.id, sc);
        socket.pipeline().addLast(PipelineNames.RELAY, new StreamRelayHandler(sc));
        sc.openSentAt = link.stats().openSent();
        link.writeAndFlush(new Frame.Open(sc.id, tunnelId, sc.window, false, false, false, target,
                socket.remoteAddress() instanceof java.net.InetSocketAddress from ? HostPort.of(from) : null));
    }

    /**
     * Starts the egress of a channel the peer opened: connects to {@code target} on the link's event
     * loop and answers OPEN_OK once connected or OPEN_FAIL if not. Policy has been checked.
     */
    public static void egress(Link link, Frame.Open open, HostPort target, Outbound outbound) {
        StreamChannel sc = new StreamChannel(link, open.channel(), null, State.CONNECTING);
        sc.sendCredit = open.window();
        link.register(sc.id, sc);
        Bootstrap b = new Bootstrap().group(link.eventLoop()).channel(outbound.transport().socketChannel())
                .resolver(outbound.resolver())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) link.settings().connectTimeout().toMillis())
                .handler(new StreamRelayHandler(sc));
        LocalSockets.configure(b, link.settings());
        b.connect(target.toSocketAddress()).addListener((ChannelFuture f) -> sc.onConnected(f, target));
    }

    private void onConnected(ChannelFuture f, HostPort target) {
        if (state != State.CONNECTING) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            state = State.CLOSED;
            link.unregister(id);
            link.stats().openFailed();
            Throwable cause = f.cause();
            ErrorCode code = switch (cause) {
                case ConnectTimeoutException e -> ErrorCode.TIMEOUT;
                case ConnectException e -> ErrorCode.REFUSED;
                case NoRouteToHostException e -> ErrorCode.UNREACHABLE;
                case UnknownHostException e -> ErrorCode.UNREACHABLE;
                default -> ErrorCode.GENERAL;
            };
            log.info("{}: channel {}: connect to {} failed: {}", link, id, target, cause.toString());
            link.writeAndFlush(new Frame.OpenFail(id, code, "connect to " + target + " failed: " + (cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName())));
            return;
        }
        socket = f.channel();
        state = State.OPEN;
        link.stats().channelOpened();
        link.writeAndFlush(new Frame.OpenOk(id, window));
        readIfPossible();
    }

    // ---- frames from the peer --------------------------------------------------------------

    @Override
    public void onOpenOk(int peerWindow) {
        if (state != State.OPENING) {
            link.protocolViolation("OPEN_OK for channel " + id + " in state " + state);
            return;
        }
        link.stats().openAnswered(mode(), true, openSentAt);
        state = State.OPEN;
        sendCredit = peerWindow;
        link.stats().channelOpened();
        if (opener != null) {
            answerOpener();
        }
        drainHeld();
        link.flush();
        readIfPossible();
    }

    @Override
    public void onOpenFail(ErrorCode code, String message) {
        if (state != State.OPENING) {
            link.protocolViolation("OPEN_FAIL for channel " + id + " in state " + state);
            return;
        }
        link.stats().openAnswered(mode(), false, openSentAt);
        state = State.CLOSED;
        link.unregister(id);
        if (code == ErrorCode.DENIED) {
            log.warn("{}: {} refused by the peer: {}", link, tunnel, message);
        } else {
            log.info("{}: {}: channel {} failed: {}", link, tunnel, id, message);
        }
        tunnel.channelFailed(message);
        tunnel.release();
        if (opener != null) {
            opener.failed(code, message);
        } else {
            socket.close();
        }
    }

    /** The {@code mode} tag of an ingress channel's tunnel. */
    private Mode mode() {
        TunnelSpec s = tunnel.spec();
        return Mode.of(s.dynamic(), s.peer() != null, s.push(), s.udp());
    }

    /** The customer's request succeeded: its reply goes out, then whatever it sent after the request. */
    private void answerOpener() {
        ByteBuf leftover = opener.succeeded();
        opener = null;
        if (leftover.isReadable()) {
            onLocalData(leftover);
        } else {
            leftover.release();
        }
        if (socket instanceof DuplexChannel d && d.isInputShutdown()) {
            onLocalInputEnded();
        }
    }

    @Override
    public void onData(ByteBuf payload) {
        int n = payload.readableBytes();
        if (state != State.OPEN || eofReceived) {
            link.reject(payload, "DATA for channel " + id + " in state " + state + (eofReceived ? " after EOF" : ""));
            return;
        }
        unacked += n;
        if (unacked > window) {
            link.reject(payload, "channel " + id + " exceeded its window of " + window + " bytes");
            return;
        }
        link.stats().buffered(n);
        socket.write(payload).addListener(f -> onLocalWritten(n));
        if (!flushRequested) {
            flushRequested = true;
            link.requestLocalFlush(this);
        }
    }

    private void onLocalWritten(int n) {
        link.stats().buffered(-n);
        if (state != State.OPEN) {
            return;
        }
        consumed += n;
        if (consumed >= creditThreshold) {
            unacked -= consumed;
            link.writeAndFlush(new Frame.Window(id, consumed));
            consumed = 0;
        }
    }

    @Override
    public void flushLocal() {
        flushRequested = false;
        if (socket != null) {
            socket.flush();
        }
    }

    @Override
    public void onDatagram(ByteBuf payload) {
        link.reject(payload, "DATAGRAM on TCP channel " + id);
    }

    @Override
    public void onWindow(int increment) {
        if (state != State.OPEN) {
            return;
        }
        sendCredit += increment;
        if (sendCredit > Integer.MAX_VALUE) {
            link.protocolViolation("channel " + id + " credit overflow");
            return;
        }
        drainHeld();
        link.flush();
        readIfPossible();
    }

    @Override
    public void onEof() {
        if (state != State.OPEN || eofReceived) {
            return;
        }
        eofReceived = true;
        socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (socket.isActive() && socket instanceof DuplexChannel duplex) {
                duplex.shutdownOutput().addListener(x -> {
                    outputShut = true;
                    closeIfDone();
                });
            }
        });
    }

    @Override
    public void onClose(ErrorCode code) {
        State was = state;
        state = State.CLOSED;
        link.unregister(id);
        releaseHeld();
        if (was == State.CONNECTING || was == State.CLOSED) {
            return;
        }
        finishedFrom(was);
        if (code == ErrorCode.NONE) {
            socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            socket.close();
        }
    }

    @Override
    public void onLinkWritable() {
        readIfPossible();
    }

    @Override
    public void onLinkClosed() {
        State was = state;
        state = State.CLOSED;
        releaseHeld();
        if (was != State.CONNECTING && was != State.CLOSED) {
            finishedFrom(was);
            if (was == State.OPENING && opener != null) {
                opener.failed(ErrorCode.SHUTDOWN, "the link closed");
            } else {
                socket.close();
            }
        }
    }

    // ---- events of the local socket ---------------------------------------------------------

    void onLocalData(ByteBuf buf) {
        if (state == State.CLOSED || eofSent) {
            buf.release();
            return;
        }
        // Before OPEN_OK nothing is pulled, but epoll reads anyway when the peer half-closes (RDHUP):
        // keep those bytes until the channel is open; they are at most one socket buffer.
        if (state == State.OPEN && held.isEmpty() && buf.readableBytes() <= sendCredit) {
            send(buf);
        } else {
            held.add(buf);
            heldBytes += buf.readableBytes();
            link.stats().buffered(buf.readableBytes());
            drainHeld();
        }
    }

    void onLocalReadComplete() {
        link.flush();
        readIfPossible();
    }

    void onLocalInputEnded() {
        inputEnded = true;
        if (state == State.OPEN && held.isEmpty() && !eofSent) {
            sendEof();
        }
    }

    void onLocalError() {
        // the close that follows reports it; nothing else to undo
    }

    void onLocalClosed() {
        State was = state;
        if (was == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        link.unregister(id);
        releaseHeld();
        finishedFrom(was);
        if (!link.isClosed()) {
            link.writeAndFlush(new Frame.Close(id, ErrorCode.NONE));
        }
    }

    private void send(ByteBuf buf) {
        int n = buf.readableBytes();
        int max = link.settings().maxDataPayload();
        sendCredit -= n;
        link.stats().sentToLink(n);
        while (buf.readableBytes() > max) {
            link.write(new Frame.Data(id, buf.readRetainedSlice(max)));
        }
        link.write(new Frame.Data(id, buf));
    }

    private void drainHeld() {
        if (state != State.OPEN) {
            return;
        }
        while (!held.isEmpty() && sendCredit > 0) {
            ByteBuf b = held.peek();
            int n = b.readableBytes();
            if (n <= sendCredit) {
                held.poll();
                heldBytes -= n;
                link.stats().buffered(-n);
                send(b);
            } else {
                int part = (int) sendCredit;
                heldBytes -= part;
                link.stats().buffered(-part);
                send(b.readRetainedSlice(part));
            }
        }
        if (held.isEmpty() && inputEnded && !eofSent && state == State.OPEN) {
            sendEof();
        }
    }

    private void sendEof() {
        eofSent = true;
        link.writeAndFlush(new Frame.Eof(id));
        closeIfDone();
    }

    private void closeIfDone() {
        if (eofSent && outputShut && socket != null) {
            socket.close();
        }
    }

    private void readIfPossible() {
        if (state == State.OPEN && !inputEnded && !eofSent && held.isEmpty() && sendCredit > 0
                && link.isWritable() && socket.isActive()) {
            socket.read();
        }
    }

    private void releaseHeld() {
        if (heldBytes > 0) {
            link.stats().buffered(-heldBytes);
            heldBytes = 0;
        }
        Link.releaseAll(held);
    }

    /** Gives back what the channel held when it left state {@code was}: the open count and the tunnel slot. */
    private void finishedFrom(State was) {
        if (was == State.OPEN) {
            link.stats().channelClosed();
        }
        if (tunnel != null) {
            tunnel.release();
        }
    }

    @Override
    public String toString() {
        return link + " channel " + id;
    }
}
