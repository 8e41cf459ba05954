package io.sdt.core;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.sdt.core.link.Link;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The remote-forward listeners one link asked the server for, by tunnel id: those being bound and
 * those listening. Used only on the link's event loop.
 */
final class Binds {

    final Link link;
    private final Set<Integer> pending = new HashSet<>();
    private final Map<Integer, Channel> listening = new HashMap<>();
    /** Listeners closed by UNBIND whose close has not completed: a new BIND waits for them. */
    private final List<ChannelFuture> closing = new ArrayList<>();

    Binds(Link link) {
        this.link = link;
    }

    int size() {
        return pending.size() + listening.size();
    }

    /** Registers a BIND being served; false if that tunnel is being bound or listens already. */
    boolean pending(int tunnelId) {
        return !listening.containsKey(tunnelId) && pending.add(tunnelId);
    }

    /** The bind of {@code tunnelId} completed; true if it is still wanted (no UNBIND came meanwhile). */
    boolean settle(int tunnelId) {
        return pending.remove(tunnelId);
    }

    void listening(int tunnelId, Channel listener) {
        listening.put(tunnelId, listener);
    }

    /** Closes the listener of {@code tunnelId} (or cancels its pending bind); false if there is none. */
    boolean unbind(int tunnelId) {
        if (pending.remove(tunnelId)) {
            return true;
        }
        Channel ch = listening.remove(tunnelId);
        if (ch == null) {
            return false;
        }
        closing.add(ch.close());
        return true;
    }

    /** Runs {@code task} on the link's loop once every listener closed by {@link #unbind} has released its port. */
    void afterClosing(Runnable task) {
        closing.removeIf(ChannelFuture::isDone);
        if (closing.isEmpty()) {
            task.run();
            return;
        }
        AtomicInteger left = new AtomicInteger(closing.size());
        for (ChannelFuture f : List.copyOf(closing)) {
            f.addListener(x -> {
                if (left.decrementAndGet() == 0) {
                    link.eventLoop().execute(task);
                }
            });
        }
    }

    void closeAll() {
        listening.values().forEach(Channel::close);
        listening.clear();
        pending.clear();
    }
}
