package io.sdt.core.link;

import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.codec.Frame;

import java.util.concurrent.TimeUnit;

/**
 * Heartbeat of an authenticated link: a PING every {@link LinkSettings#heartbeat()}, whatever else
 * is written, and a read-idle detector that declares the link dead after
 * {@link LinkSettings#idleTimeout()} of silence. Writer-idle detection is deliberately not used:
 * Netty's IdleStateHandler tracks it by attaching a listener to every write, which costs a promise
 * per frame on the data path; one PING per interval costs nothing by comparison.
 */
final class Heartbeat {

    private Heartbeat() {
    }

    static IdleStateHandler idleDetector(LinkSettings settings) {
        return new IdleStateHandler(settings.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS);
    }

    /** Starts the PINGs on the link's loop; they stop when the link closes. */
    static void start(Link link) {
        long every = link.settings().heartbeat().toMillis();
        ScheduledFuture<?> pings = link.eventLoop().scheduleAtFixedRate(() -> {
            if (link.isActive()) {
                link.writeAndFlush(new Frame.Ping(System.nanoTime()));
            }
        }, every, every, TimeUnit.MILLISECONDS);
        link.channel().closeFuture().addListener(f -> pings.cancel(false));
    }
}
