package io.sdt.core.tunnel.push.relp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * The client side of one RELP session, as a push egress runs it towards a log server (rsyslog's
 * imrelp): {@code open} as soon as the connection is up, then one {@code syslog} command per record,
 * at most {@link #WINDOW} unanswered. The server answers in order; each {@code 200} tells
 * {@link Events#delivered} that the oldest unanswered record is safe with the log server. Anything else
 * (an error answer, an answer out of order, broken framing, the server's {@code serverclose} hint)
 * ends the connection; the records still unanswered then are the caller's to send again. Confined to
 * the connection's event loop.
 */
public final class RelpClient extends ChannelInboundHandlerAdapter {

    /** Unanswered commands at most, like librelp's default window. */
    public static final int WINDOW = 128;
    /** Longest answer data we take from a server (offers are a few dozen bytes). */
    public static final int MAX_ANSWER = 64 * 1024;

    /** What the session tells its owner. */
    public interface Events {
        /** The session is open: records may be sent. */
        void ready();

        /** The server took the oldest unanswered record. */
        void delivered();

        /** The session ends because of {@code why}; the connection is closing. */
        void broken(String why);
    }

    private final Events events;
    private final ArrayDeque<Integer> unanswered = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private int next = 1;
    private boolean ready;
    private boolean over;

    public RelpClient(Events events) {
        this.events = events;
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
        if (next != 1) {
            return;
        }
        int txnr = take();
        ctx.writeAndFlush(RelpFrame.encode(ctx.alloc(), txnr, "open", Offers.OURS));
    }

    private int take() {
        int txnr = next;
        next = RelpFrame.next(next);
        unanswered.add(txnr);
        return txnr;
    }

    /** Whether the session is open and its window has room. */
    public boolean canSend() {
        return ready && !over && unanswered.size() < WINDOW;
    }

    /**
     * Sends {@code record} (released here) as one syslog message, without its final newline; the caller
     * flushes. Only while {@link #canSend()}.
     */
    public ChannelFuture send(ByteBuf record) {
        int n = record.readableBytes();
        if (n > 0 && record.getByte(record.writerIndex() - 1) == '\n') {
            n--;
        }
        int txnr = take();
        CompositeByteBuf frame = ctx.alloc().compositeBuffer(3);
        frame.addComponent(true, RelpFrame.header(ctx.alloc(), txnr, "syslog", n, 0));
        frame.addComponent(true, record.retainedSlice(record.readerIndex(), n));
        frame.addComponent(true, ctx.alloc().buffer(1).writeByte('\n'));
        record.release();
        return ctx.write(frame);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof RelpFrame f)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            read(f);
        } finally {
            f.release();
        }
    }

    private void read(RelpFrame f) {
        if (over) {
            return;
        }
        if (f.txnr() == 0) {
            if (f.command().equals("serverclose")) {
                end("the log server is closing the session");
            }
            return; // other hints mean nothing to us
        }
        if (!f.command().equals("rsp")) {
            end("the log server sent command " + f.command());
            return;
        }
        Integer due = unanswered.peek();
        if (due == null || due != f.txnr()) {
            end("an answer to transaction " + f.txnr() + " where " + due + " was due");
            return;
        }
        unanswered.poll();
        String text = f.text();
        int lf = text.indexOf('\n');
        String head = lf < 0 ? text : text.substring(0, lf);
        if (!head.startsWith("200")) {
            end((ready ? "the log server refused a record: " : "the log server refused the session: ")
                    + (head.isEmpty() ? "(no status)" : head));
            return;
        }
        if (!ready) {
            String why = Offers.unusable(Offers.parse(lf < 0 ? "" : text.substring(lf + 1)));
            if (why != null) {
                end("the log server's offers are unusable: " + why);
                return;
            }
            ready = true;
            events.ready();
            return;
        }
        events.delivered();
    }

    private void end(String why) {
        if (!over) {
            over = true;
            events.broken(why);
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof RelpDecoder.RelpException) {
            end(cause.getMessage());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
