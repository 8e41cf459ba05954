package io.sdt.core.link;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sdt.codec.Frame;
import io.sdt.core.metrics.NodeStats;

/**
 * Links over an {@link EmbeddedChannel}, for unit tests of the link and of the channels that use it:
 * frames the link writes are read back with {@link EmbeddedChannel#readOutbound()} as {@link Frame}
 * objects (no encoder), frames from the peer are fed with {@link Link#onFrame} through {@link #receive}.
 */
public final class TestLinks {

    private TestLinks() {
    }

    public static Link over(EmbeddedChannel ch, boolean client, LinkSettings settings, NodeStats stats,
                            LinkHooks hooks) {
        return new Link(ch, client, settings, stats, hooks);
    }

    /** A link whose ends agreed on early data (ALPN sdt/1.1). */
    public static Link early(EmbeddedChannel ch, boolean client, LinkSettings settings, NodeStats stats,
                             LinkHooks hooks) {
        return new Link(ch, client, settings, stats, hooks, true);
    }

    /** A link over any channel (a real socket whose pipeline carries the frame codec, say). */
    public static Link over(io.netty.channel.Channel ch, boolean client, LinkSettings settings, NodeStats stats,
                            LinkHooks hooks) {
        return new Link(ch, client, settings, stats, hooks);
    }

    /** A client-side link with default settings that refuses every OPEN from the peer. */
    public static Link over(EmbeddedChannel ch, NodeStats stats) {
        return over(ch, true, LinkSettings.defaults(), stats, (link, open) ->
                link.writeAndFlush(new Frame.OpenFail(open.channel(), io.sdt.codec.ErrorCode.DENIED, "test")));
    }

    /** Delivers {@code frame} as if the peer had sent it; then ends the read burst (local flushes run). */
    public static void receive(Link link, Frame frame) {
        deliver(link, frame);
        endOfBurst(link);
    }

    /** Delivers {@code frame} as if the peer had sent it, within a read burst: nothing is flushed yet. */
    public static void deliver(Link link, Frame frame) {
        link.onFrame(frame);
    }

    /** The end of the link's read burst: the local sockets written to are flushed. */
    public static void endOfBurst(Link link) {
        link.flushLocals();
    }

    /** The link's channel went inactive. */
    public static void closed(Link link) {
        link.onClosed();
    }
}
