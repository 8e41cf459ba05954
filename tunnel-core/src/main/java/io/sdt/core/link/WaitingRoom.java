package io.sdt.core.link;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The server's connections that have not authenticated yet, kept so that no one can lock new clients out
 * by holding connections open (what OpenSSH learned with MaxStartups, PerSourceMaxStartups and
 * PerSourcePenalties). Three rules:
 * <ol>
 *   <li><b>per source</b>: one address may have at most {@code perSource} connections waiting; more are
 *       refused, so a single source starves only itself;</li>
 *   <li><b>full room, fair eviction</b>: when {@code capacity} connections wait, a newcomer is admitted
 *       and a waiting one is dropped instead: the oldest that has not sent a byte yet (a real client
 *       sends its TLS ClientHello at once), else the oldest of the source with the most connections
 *       waiting. OpenSSH's random early drop refuses the newcomer, which lets a flood of idle
 *       connections keep a legitimate client out for as long as the flood lasts; dropping the idlest
 *       waiting connection lets the newcomer in while the flood only replaces its own;</li>
 *   <li><b>first byte</b>: a connection that sends nothing within the first-byte deadline is closed
 *       ({@link LinkPipelines}), so idle connections free their places quickly.</li>
 * </ol>
 * Connections of every event loop of the server come here: the methods are synchronized (a handful per
 * connection, never per frame).
 */
public final class WaitingRoom {

    /** One waiting connection; {@link #leave()} once it has authenticated, failed or closed. */
    public final class Ticket {
        private final Channel channel;
        private final InetAddress source;
        private boolean spoke;
        private boolean left;

        private Ticket(Channel channel, InetAddress source) {
            this.channel = channel;
            this.source = source;
        }

        /** The connection sent its first byte: from now on it is dropped only after the silent ones. */
        public void spoke() {
            synchronized (WaitingRoom.this) {
                spoke = true;
            }
        }

        /** The connection no longer waits. Idempotent. */
        public void leave() {
            synchronized (WaitingRoom.this) {
                if (!left) {
                    left = true;
                    queue.remove(this);
                    perSourceCount.computeIfPresent(source, (k, n) -> n == 1 ? null : n - 1);
                }
            }
        }
    }

    /** What {@link #enter} decided. */
    public sealed interface Entry {
        /** Admitted; {@code dropped} is a waiting connection that made room (closed by the caller), or null. */
        record Admitted(Ticket ticket, Channel dropped) implements Entry {
        }

        /** Refused: the source already has {@code perSource} connections waiting. */
        record Refused(String reason) implements Entry {
        }
    }

    private final int capacity;
    private final int perSource;
    /** Waiting connections, oldest first. */
    private final ArrayDeque<Ticket> queue = new ArrayDeque<>();
    private final Map<InetAddress, Integer> perSourceCount = new HashMap<>();

    public WaitingRoom(int capacity, int perSource) {
        if (capacity < 1 || perSource < 1) {
            throw new IllegalArgumentException("capacity and perSource must be at least 1");
        }
        this.capacity = capacity;
        this.perSource = perSource;
    }

    /** The per-source limit the server uses for a room of {@code capacity}: a quarter of it, at least 1. */
    public static int defaultPerSource(int capacity) {
        return Math.max(1, capacity / 4);
    }

    /** A connection was accepted: admit it (perhaps dropping another) or refuse it. */
    public Entry enter(Channel channel) {
        return enter(channel, false);
    }

    /**
     * A connection was accepted; {@code balanced}: it comes from a load balancer that speaks for many clients
     * (PROXY protocol), so the per-source limit, which would count them all as one, does not apply to it.
     */
    public synchronized Entry enter(Channel channel, boolean balanced) {
        InetAddress source = sourceOf(channel.remoteAddress());
        int fromSource = perSourceCount.getOrDefault(source, 0);
        if (fromSource >= perSource && !balanced) {
            return new Entry.Refused(fromSource + " connections from " + source.getHostAddress()
                    + " are already waiting to authenticate");
        }
        Channel dropped = null;
        if (queue.size() >= capacity) {
            Ticket victim = victim();
            victim.leave();
            dropped = victim.channel;
        }
        Ticket t = new Ticket(channel, source);
        queue.addLast(t);
        perSourceCount.merge(source, 1, Integer::sum);
        return new Entry.Admitted(t, dropped);
    }

    /** Connections waiting now. */
    public synchronized int size() {
        return queue.size();
    }

    private Ticket victim() {
        for (Ticket t : queue) {
            if (!t.spoke) {
                return t;
            }
        }
        InetAddress busiest = null;
        int most = 0;
        for (Map.Entry<InetAddress, Integer> e : perSourceCount.entrySet()) {
            if (e.getValue() > most) {
                most = e.getValue();
                busiest = e.getKey();
            }
        }
        for (Iterator<Ticket> it = queue.iterator(); it.hasNext(); ) {
            Ticket t = it.next();
            if (t.source.equals(busiest)) {
                return t;
            }
        }
        return queue.peekFirst();
    }

    private static InetAddress sourceOf(SocketAddress a) {
        if (a instanceof InetSocketAddress i && i.getAddress() != null) {
            return i.getAddress();
        }
        return InetAddress.getLoopbackAddress(); // not an IP socket (tests): one shared source
    }
}
