package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.Frame;
import io.sdt.core.metrics.NodeStats;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The link's pipeline flushes once per event-loop turn, however many frames of however many channels. */
class LinkFlushTest {

    /**
     * Stands where the SslHandler stands and takes what it is given: counts the encoded frames and the flushes
     * that would make TLS records (nothing goes on to the EmbeddedChannel, which would run queued tasks).
     */
    private static final class TlsStandIn extends ChannelOutboundHandlerAdapter {
        int flushes;
        int writes;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            writes += msg instanceof ByteBuf ? 1 : 0;
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushes++;
        }
    }

    @Test
    void framesOfOneTurnLeaveInOneFlush() {
        TlsStandIn tls = new TlsStandIn();
        // an EmbeddedChannel runs its queued tasks on every write and flush; a real event loop runs them after
        // the turn's I/O, which runPendingTasks() stands for below
        EmbeddedChannel ch = new EmbeddedChannel() {
            @Override
            public ChannelFuture write(Object msg, ChannelPromise promise) {
                return pipeline().write(msg, promise);
            }

            @Override
            public Channel flush() {
                pipeline().flush();
                return this;
            }
        };
        LinkPipelines.frames(ch.pipeline(), tls, LinkSettings.defaults().maxFrameLength());
        Link link = TestLinks.over(ch, true, LinkSettings.defaults(), new NodeStats(), (l, open) -> { });

        for (int id = 1; id <= 50; id++) { // one turn: EOF and CLOSE of 50 channels, each flushed at once
            link.writeAndFlush(new Frame.Eof(id));
            link.writeAndFlush(new Frame.Close(id, io.sdt.codec.ErrorCode.NONE));
        }
        assertEquals(100, tls.writes, "every frame is encoded and written at once");
        assertEquals(0, tls.flushes, "nothing flushed within the turn");
        ch.runPendingTasks(); // the end of the turn
        assertEquals(1, tls.flushes);

        link.writeAndFlush(new Frame.Eof(51)); // a later turn flushes again
        ch.runPendingTasks();
        assertEquals(2, tls.flushes);
        ch.finishAndReleaseAll();
    }
}
