package io.sdt.core.tunnel.push.relp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.function.BiConsumer;

/**
 * The server side of one RELP session, as a push ingress runs it for a producer such as rsyslog's
 * omrelp. Each {@code syslog} message becomes a record (the message and a newline) handed to
 * {@link Records#offer}, which returns a ticket; the message is answered {@code 200 OK} only once
 * {@link #settled} reports that ticket, that is once the record is in the durable spool. Answers go out
 * in the order of the commands, as RELP requires; a {@code close} is answered after every message
 * before it, and then the connection ends.
 *
 * <p>Broken framing, a transaction number out of sequence, a second {@code open} or a message before the
 * first one end the connection at once (RELP's rule: the side that sees the problem closes); the
 * producer sends its unanswered messages again on its next session. Unknown commands get a {@code 500}
 * answer and the session goes on. Confined to the connection's event loop.
 */
public final class RelpServer extends ChannelInboundHandlerAdapter {

    /** Where messages go. */
    public interface Records {
        /**
         * Takes one record (the callee owns it) and returns its ticket: it is safe once {@link #settled}
         * reports a number at or above the ticket.
         */
        long offer(ByteBuf record);
    }

    private record Answer(long ticket, int txnr, String text, boolean last) {
    }

    private final Records records;
    private final BiConsumer<ChannelHandlerContext, String> broken;
    private final ArrayDeque<Answer> answers = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private int expected = 1;
    private boolean open;
    private boolean closing;
    private long lastTicket;
    private long settled;

    /**
     * @param records where messages go
     * @param broken  told why a session is ended for breaking the protocol (to log it), before it closes
     */
    public RelpServer(Records records, BiConsumer<ChannelHandlerContext, String> broken) {
        this.records = records;
        this.broken = broken;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
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
        answer();
    }

    private void read(RelpFrame f) {
        if (closing) {
            return; // nothing may follow close
        }
        if (f.txnr() == 0) {
            return; // a hint: never answered, and none is defined from a client
        }
        if (f.txnr() != expected) {
            fail("transaction number " + f.txnr() + " where " + expected + " was due");
            return;
        }
        expected = RelpFrame.next(expected);
        switch (f.command()) {
            case "open" -> {
                if (open) {
                    ctx.writeAndFlush(RelpFrame.encode(ctx.alloc(), f.txnr(), "rsp",
                            "500 protocol error: connection already open"));
                    fail("a second open");
                    return;
                }
                String why = Offers.unusable(Offers.parse(f.text()));
                if (why != null) {
                    ctx.writeAndFlush(RelpFrame.encode(ctx.alloc(), f.txnr(), "rsp", "500 " + why));
                    fail("open refused: " + why);
                    return;
                }
                open = true;
                answers.add(new Answer(lastTicket, f.txnr(), "200 OK\n" + Offers.OURS, false));
            }
            case "syslog" -> {
                if (!open) {
                    fail("syslog before open");
                    return;
                }
                ByteBuf record = ctx.alloc().buffer(f.data().readableBytes() + 1);
                record.writeBytes(f.data(), f.data().readerIndex(), f.data().readableBytes()).writeByte('\n');
                lastTicket = records.offer(record);
                answers.add(new Answer(lastTicket, f.txnr(), "200 OK", false));
            }
            case "close" -> {
                closing = true;
                answers.add(new Answer(lastTicket, f.txnr(), "200 OK", true));
            }
            default -> answers.add(new Answer(lastTicket, f.txnr(), "500 command " + f.command() + " not supported",
                    false));
        }
    }

    /** Records up to {@code ticket} are safe: answer the messages that wait for them. */
    public void settled(long ticket) {
        if (ticket > settled) {
            settled = ticket;
            answer();
        }
    }

    private void answer() {
        boolean wrote = false;
        while (!answers.isEmpty() && answers.peek().ticket() <= settled) {
            Answer a = answers.poll();
            ctx.write(RelpFrame.encode(ctx.alloc(), a.txnr(), "rsp", a.text()));
            wrote = true;
            if (a.last()) {
                ctx.writeAndFlush(ctx.alloc().buffer(0, 0)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
        if (wrote) {
            ctx.flush();
        }
    }

    private void fail(String why) {
        closing = true;
        answers.clear();
        broken.accept(ctx, why);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof RelpDecoder.RelpException || cause.getCause() instanceof RelpDecoder.RelpException) {
            fail(cause.getMessage());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        answers.clear(); // unanswered messages: the producer sends them again
        ctx.fireChannelInactive();
    }
}
