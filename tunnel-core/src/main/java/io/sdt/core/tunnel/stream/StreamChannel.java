package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.link.PipelineNames;
import io.sdt.core.link.ReceiveWindow;
import io.sdt.core.link.SendWindow;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.Tunnel;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;

/**
 * One TCP channel of a link: a local socket on one node relayed to a local socket on the other.
 * The same class serves the ingress (which accepted the socket and sent OPEN) and the egress (which
 * received OPEN and connected, {@link Connector}), so local and remote forwarding are one code path,
 * and a router's CONNECT is the same relay once its {@link OpenAnswer} has replied.
 *
 * <p>Flow control: this side sends only what its {@link SendWindow} allows; the local socket is read
 * (AUTO_READ off) only while there is credit and the link is writable. Bytes from the peer count
 * against its {@link ReceiveWindow} and are credited back with WINDOW only once their write to the local
 * socket has completed, so a slow local reader stalls its own channel and nothing else. Bytes one socket
 * read brought beyond the credit wait in {@link HeldBytes}.
 *
 * <p>Early data: on a link whose ends agreed on it ({@link Link#earlyData()}), an ingress whose customer waits
 * for no reply ({@link OpenAnswer#early()}) reads it right away and sends up to {@link Frame#EARLY_DATA_MAX}
 * bytes, and EOF, behind its OPEN instead of a round trip later; the egress holds them while it connects and
 * writes them to the target first. They count against the egress's receive window like any DATA: the
 * ingress's credit after OPEN_OK is the window OPEN_OK names less what it sent early.
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
    /** Ingress only: the tunnel whose slot this channel holds. */
    private final Tunnel tunnel;
    /**
     * The tunnel this node configured, whose byte counters the channel adds to: the ingress's, and a client's
     * {@code -R} at its egress; {@code null} at a server's egress (the tunnel is the client's).
     */
    private final Tunnel meter;
    private final SendWindow credit = new SendWindow();
    private final ReceiveWindow window;
    private final HeldBytes held;
    private Channel socket;
    private State state;
    private boolean inputEnded;
    private boolean eofSent;
    private boolean eofReceived;
    private boolean outputShut;
    private boolean flushRequested;
    /** Out of credit with bytes to send, since the last WINDOW. */
    private boolean stalled;
    /** The local socket failed (RST from its peer, an I/O error): its CLOSE says RESET. */
    private boolean localFailed;
    /** Ingress, until the far node answers OPEN: who hears the answer. */
    private OpenAnswer answer;
    /** Ingress: when OPEN went out ({@code NodeStats.openSent()}). */
    private long openSentAt;
    /** The OPEN was early: the ingress sends, and the egress takes, DATA and EOF before OPEN_OK. */
    private boolean early;
    /** Egress of an early OPEN, while connecting: what the ingress sent ahead, for the target; else null. */
    private HeldBytes earlyIn;
    /** Egress of an early OPEN: DATA payload bytes received before connecting. */
    private int earlyReceived;

    private StreamChannel(Link link, int id, Tunnel tunnel, Tunnel meter, State state) {
        this.link = link;
        this.id = id;
        this.tunnel = tunnel;
        this.meter = meter;
        this.state = state;
        this.window = link.newReceiveWindow(tunnel == null ? null : tunnel::windowChanged);
        this.held = new HeldBytes(link.stats());
    }

    /**
     * Starts the ingress of an accepted socket already registered on the link's event loop: sends OPEN
     * for {@code target} and reads nothing before the answer, which goes to {@code answer}. The tunnel
     * slot must have been acquired; the channel gives it back when it ends.
     */
    public static void ingress(Link link, Channel socket, Tunnel tunnel, HostPort target, OpenAnswer answer) {
        if (link.isClosed()) {
            tunnel.release();
            answer.refused(ErrorCode.SHUTDOWN, "no link");
            return;
        }
        StreamChannel sc = new StreamChannel(link, link.allocateChannelId(), tunnel, tunnel, State.OPENING);
        sc.answer = answer;
        sc.socket = socket;
        sc.early = link.earlyData() && answer.early();
        link.register(sc.id, sc);
        socket.pipeline().addLast(PipelineNames.RELAY, new StreamRelayHandler(sc));
        sc.openSentAt = link.stats().openSent();
        HostPort origin = socket.remoteAddress() instanceof InetSocketAddress from ? HostPort.of(from) : null;
        link.writeAndFlush(new Frame.Open(sc.id, tunnel.id(), sc.window.size(), false, false, false, target,
                origin, false, false, tunnel.spec().proxyProtocol() && origin != null, sc.early));
        if (sc.early) {
            sc.credit.open(Frame.EARLY_DATA_MAX);
            sc.takeAhead(); // the customer's bytes so far, and then the socket's, follow the OPEN
            sc.link.flush();
            sc.readIfPossible();
        }
    }

    /**
     * Starts the egress of a channel the peer opened: connects to {@code target} on the link's event
     * loop and answers OPEN_OK once connected or OPEN_FAIL if not. Policy has been checked. With the OPEN's
     * flag, or {@code tunnel}'s {@code proxy-protocol}, the target first gets a PROXY protocol v2 header
     * naming the OPEN's origin.
     *
     * @param tunnel this node's own tunnel (a client serving its {@code -R}): its byte counters count the
     *               channel; {@code null} when the far node configured it
     */
    public static void egress(Link link, Frame.Open open, HostPort target, Outbound outbound, Tunnel tunnel) {
        StreamChannel sc = new StreamChannel(link, open.channel(), null, tunnel, State.CONNECTING);
        sc.credit.open(open.window());
        sc.early = open.early();
        link.register(sc.id, sc);
        boolean proxyProtocol = tunnel != null && tunnel.spec().proxyProtocol();
        HostPort origin = proxyProtocol || open.proxyProtocol() ? open.origin() : null;
        Connector.connect(link, target, outbound, new StreamRelayHandler(sc))
                .addListener((ChannelFuture f) -> sc.onConnected(f, target, origin));
    }

    private void onConnected(ChannelFuture f, HostPort target, HostPort proxyOrigin) {
        if (state != State.CONNECTING) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            closed();
            link.unregister(id);
            releaseHeld();
            link.stats().openFailed();
            log.info("{}: channel {}: connect to {} failed: {}", link, id, target, f.cause().toString());
            link.writeAndFlush(new Frame.OpenFail(id, Connector.errorCode(f.cause()), Connector.message(target, f.cause())));
            return;
        }
        socket = f.channel();
        if (proxyOrigin != null) {
            ProxyHeader.write(socket, proxyOrigin);
        }
        state = State.OPEN;
        link.stats().channelOpened();
        link.writeAndFlush(new Frame.OpenOk(id, window.size()));
        if (earlyIn != null) {
            while (!earlyIn.isEmpty()) {
                writeLocal(earlyIn.take(Integer.MAX_VALUE));
            }
            earlyIn = null;
            socket.flush();
        }
        if (eofReceived) {
            endLocalOutput();
        }
        readIfPossible();
    }

    // ---- frames from the peer --------------------------------------------------------------

    @Override
    public void onOpenOk(int peerWindow) {
        if (state != State.OPENING) {
            link.protocolViolation("OPEN_OK for channel " + id + " in state " + state);
            return;
        }
        link.stats().openAnswered(tunnel.spec().tag(), true, openSentAt);
        state = State.OPEN;
        if (early) {
            // what went ahead is in the window OPEN_OK names
            long sentEarly = Frame.EARLY_DATA_MAX - credit.available();
            if (peerWindow < sentEarly) {
                link.protocolViolation("OPEN_OK for channel " + id + " names a window of " + peerWindow
                        + " bytes, less than the " + sentEarly + " sent early");
                return;
            }
            credit.open((int) (peerWindow - sentEarly));
        } else {
            credit.open(peerWindow);
        }
        link.stats().channelOpened();
        if (!early) {
            accepted();
        }
        answer = null;
        stalled = false;
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
        link.stats().openAnswered(tunnel.spec().tag(), false, openSentAt);
        // bytes taken from the customer: sent early, or read at its half-close (RDHUP) and held
        boolean taken = !held.isEmpty() || early && credit.available() < Frame.EARLY_DATA_MAX;
        closed();
        link.unregister(id);
        releaseHeld(); // what the customer sent ahead, or before it half-closed (read at RDHUP), goes nowhere now
        if (taken && answer.early()) {
            // a customer told nothing in its own protocol whose bytes went nowhere: a reset, never a FIN that
            // reads as a complete exchange (what it had not sent yet, the kernel would reset anyway)
            LocalSockets.reset(socket);
        }
        if (code == ErrorCode.DENIED) {
            log.warn("{}: {} refused by the peer: {}", link, tunnel, message);
        } else {
            log.info("{}: {}: channel {} failed: {}", link, tunnel, id, message);
        }
        tunnel.channelFailed(message);
        tunnel.release();
        refused(code, message);
    }

    /** The customer hears that the channel is open (or, early, that it may go on); what it sent ahead goes first. */
    private void accepted() {
        takeAhead();
        if (socket instanceof DuplexChannel d && d.isInputShutdown()) {
            onLocalInputEnded(); // a router's customer half-closed while its front end waited for the answer
        }
    }

    /**
     * What the customer sent ahead of the answer goes first. An early ingress takes it right after its OPEN,
     * and does not look at the socket's input: a FIN read before the relay was in place is still to come from
     * {@link EarlyInput}, behind the bytes it read with it.
     */
    private void takeAhead() {
        ByteBuf ahead = answer.accepted();
        if (ahead.isReadable()) {
            onLocalData(ahead);
        } else {
            ahead.release();
        }
    }

    private void refused(ErrorCode code, String message) {
        OpenAnswer a = answer;
        answer = null;
        a.refused(code, message);
    }

    @Override
    public void onData(ByteBuf payload) {
        int n = payload.readableBytes();
        if (state != State.OPEN || eofReceived) {
            if (state == State.CONNECTING && early && !eofReceived) {
                onEarlyData(payload, n);
                return;
            }
            link.reject(payload, "DATA for channel " + id + " in state " + state + (eofReceived ? " after EOF" : ""));
            return;
        }
        if (!window.receive(n)) {
            link.reject(payload, "channel " + id + " exceeded its window of " + window.size() + " bytes");
            return;
        }
        if (meter != null) {
            meter.receivedFromLink(n);
        }
        writeLocal(payload);
        if (!flushRequested) {
            flushRequested = true;
            link.requestLocalFlush(this);
        }
    }

    /** Egress, connecting: DATA that came with an early OPEN waits for the target, within the early limit. */
    private void onEarlyData(ByteBuf payload, int n) {
        if (n > Frame.EARLY_DATA_MAX - earlyReceived) {
            link.reject(payload, "channel " + id + " sent more than " + Frame.EARLY_DATA_MAX + " bytes before OPEN_OK");
            return;
        }
        if (!window.receive(n)) {
            link.reject(payload, "channel " + id + " exceeded its window of " + window.size() + " bytes");
            return;
        }
        earlyReceived += n;
        if (meter != null) {
            meter.receivedFromLink(n);
        }
        if (earlyIn == null) {
            earlyIn = new HeldBytes(link.stats());
        }
        earlyIn.add(payload);
    }

    /** Writes bytes from the peer to the local socket; their credit goes back once written. */
    private void writeLocal(ByteBuf payload) {
        int n = payload.readableBytes();
        link.stats().buffered(n);
        socket.write(payload).addListener(f -> onLocalWritten(n));
    }

    private void onLocalWritten(int n) {
        link.stats().buffered(-n);
        if (state != State.OPEN) {
            return;
        }
        int increment = window.consume(n);
        if (increment > 0) {
            link.writeAndFlush(new Frame.Window(id, increment));
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
        if (!credit.grant(increment)) {
            link.protocolViolation("channel " + id + " credit overflow");
            return;
        }
        drainHeld();
        link.flush();
        readIfPossible();
    }

    @Override
    public void onEof() {
        if (state == State.CONNECTING && early) {
            eofReceived = true; // the target's output ends once it has what came early
            return;
        }
        if (state != State.OPEN || eofReceived) {
            return;
        }
        eofReceived = true;
        endLocalOutput();
    }

    /** The peer sent EOF: the local socket's output ends after the writes before it. */
    private void endLocalOutput() {
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
        closed();
        link.unregister(id);
        releaseHeld();
        if (was == State.CONNECTING || was == State.CLOSED) {
            return;
        }
        finishedFrom(was);
        if (code == ErrorCode.NONE) {
            socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            LocalSockets.reset(socket); // the far end failed: what this socket got is not the whole stream
        }
    }

    @Override
    public void onLinkWritable() {
        readIfPossible();
    }

    @Override
    public void onLinkClosed() {
        State was = state;
        closed();
        releaseHeld();
        if (was == State.CONNECTING || was == State.CLOSED) {
            return;
        }
        finishedFrom(was);
        if (was == State.OPENING) {
            refused(ErrorCode.SHUTDOWN, "the link closed");
        } else {
            LocalSockets.reset(socket); // cut off mid-stream: a reset, never a FIN that looks like the end
        }
    }

    // ---- events of the local socket ---------------------------------------------------------

    void onLocalData(ByteBuf buf) {
        if (state == State.CLOSED || eofSent) {
            buf.release();
            return;
        }
        // Before OPEN_OK nothing is pulled (unless early), but epoll reads anyway when the peer half-closes
        // (RDHUP): keep those bytes until the channel is open; they are at most one socket buffer.
        if (sending() && held.isEmpty() && credit.fits(buf.readableBytes())) {
            send(buf);
        } else {
            held.add(buf);
            drainHeld();
        }
    }

    void onLocalReadComplete() {
        link.flush();
        readIfPossible();
    }

    void onLocalInputEnded() {
        inputEnded = true;
        if (sending() && held.isEmpty() && !eofSent) {
            sendEof();
        }
    }

    /** The local socket failed (reset by its peer, an I/O error); it is closing. */
    void onLocalFailed() {
        localFailed = true;
    }

    void onLocalClosed() {
        State was = state;
        if (was == State.CLOSED) {
            return;
        }
        closed();
        link.unregister(id);
        releaseHeld();
        finishedFrom(was);
        if (!link.isClosed()) {
            link.writeAndFlush(new Frame.Close(id, localFailed ? ErrorCode.RESET : ErrorCode.NONE));
        }
    }

    private void send(ByteBuf buf) {
        int n = buf.readableBytes();
        int max = link.settings().maxDataPayload();
        credit.consume(n);
        link.stats().sentToLink(n);
        if (meter != null) {
            meter.sentToLink(n);
        }
        while (buf.readableBytes() > max) {
            link.write(new Frame.Data(id, buf.readRetainedSlice(max)));
        }
        link.write(new Frame.Data(id, buf));
    }

    private void drainHeld() {
        if (!sending()) {
            return;
        }
        while (!held.isEmpty() && credit.available() > 0) {
            send(held.take(credit.available()));
        }
        if (!held.isEmpty()) {
            stalled();
        }
        if (held.isEmpty() && inputEnded && !eofSent) {
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
        if (!sending() || inputEnded || eofSent || !held.isEmpty() || !socket.isActive()) {
            return;
        }
        if (socket instanceof DuplexChannel d && d.isInputShutdown()) {
            // read to its end already, its last bytes and FIN still on their way to us (EarlyInput replays
            // them: bytes, read complete, then the FIN). Asking epoll to read such a socket again failed
            // (epoll_ctl: ENOENT) and closed it with its request
            return;
        }
        if (credit.available() == 0) {
            stalled();
        } else if (link.canQueue(id)) {
            socket.read();
        }
    }

    /** Whether local bytes may go to the link now: the channel is open, or an early ingress awaits its answer. */
    private boolean sending() {
        return state == State.OPEN || state == State.OPENING && early;
    }

    /**
     * Bytes to send and no credit: the peer's window is what limits this channel; counted once per stall (not
     * while an early ingress has used up what it may send before the answer).
     */
    private void stalled() {
        if (!stalled && state == State.OPEN) {
            stalled = true;
            link.stats().windowStall();
        }
    }


    /** Frees what the channel holds for either side. */
    private void releaseHeld() {
        held.release();
        if (earlyIn != null) {
            earlyIn.release();
            earlyIn = null;
        }
    }

    /** The one way into state CLOSED: the receive window goes back to the node's budget. */
    private void closed() {
        state = State.CLOSED;
        window.close();
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
