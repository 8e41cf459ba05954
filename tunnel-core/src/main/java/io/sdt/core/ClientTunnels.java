package io.sdt.core;

import io.netty.channel.Channel;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.router.proxy.ProxyAuth;
import io.sdt.core.tunnel.router.proxy.RouterSettings;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The tunnels of one {@link SdtClient}: their ids, the listeners of the local ones, the BIND that asks
 * the server for each remote one, and how a reload changes them. Ids are never reused within a client,
 * so a BIND_OK that crossed an UNBIND cannot be taken for a new tunnel's. The list is copy-on-write; it
 * changes (and the BIND and UNBIND frames that go with a change are sent) on the link's loop, where a
 * link coming up reads it.
 */
final class ClientTunnels {

    private static final Logger log = LogManager.getLogger(ClientTunnels.class);

    private final List<Tunnel> list = new CopyOnWriteArrayList<>();
    private final Map<Integer, Tunnel> byId = new ConcurrentHashMap<>();
    private final Map<Integer, Channel> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    /** The credentials customers of the local router listeners must give; a reload may change them. */
    private volatile ProxyAuth proxyAuth;
    /** Set by {@link #listenAll}: the node's loops, transport and link, for every listener. */
    private IngressContext ingress;
    /** Set by {@link #listenAll}: the link of each server that holds its remote listeners (link loop only). */
    private Supplier<List<Link>> binders;

    ClientTunnels(List<TunnelSpec> specs, ProxyAuth proxyAuth) {
        this.proxyAuth = proxyAuth;
        for (TunnelSpec spec : specs) {
            Tunnel t = new Tunnel(nextId.getAndIncrement(), spec);
            list.add(t);
            byId.put(t.id(), t);
        }
    }

    List<Tunnel> list() {
        return List.copyOf(list);
    }

    Tunnel get(int id) {
        return byId.get(id);
    }

    /** True if {@code id} named a tunnel of this client once (a late BIND_OK for a removed tunnel is no error). */
    boolean issued(int id) {
        return id >= 1 && id < nextId.get();
    }

    /** True if the link carries just one tunnel, a direct UDP one with an exact peer ({@link TunnelSpec#sole}). */
    boolean sole() {
        return TunnelSpec.sole(specs());
    }

    private List<TunnelSpec> specs() {
        return list.stream().map(Tunnel::spec).toList();
    }

    /**
     * Binds the listener of every local tunnel (at start), with what {@code in} gives; a reload sends the BIND
     * and UNBIND of remote tunnels on the links {@code binders} gives.
     */
    void listenAll(IngressContext in, Supplier<List<Link>> binders) throws InterruptedException {
        this.ingress = in;
        this.binders = binders;
        for (Tunnel t : list) {
            if (t.spec().direction() == TunnelSpec.Direction.LOCAL) {
                listen(t);
            }
        }
    }

    private void listen(Tunnel t) throws InterruptedException {
        IngressContext in = ingress.withSole(sole())
                .withRouter(RouterSettings.of(proxyAuth, ingress.transport().datagramChannel()));
        Channel ch = TunnelModes.of(t.spec().mode()).listen(t, in).sync().channel();
        listeners.put(t.id(), ch);
        InetSocketAddress bound = (InetSocketAddress) ch.localAddress();
        t.bound(bound);
        log.info("tunnel {} listening on {}", t.spec().label(), HostPort.of(bound));
    }

    void closeListeners() {
        for (Tunnel t : list) {
            Channel ch = listeners.get(t.id());
            if (ch != null) {
                close(t, ch);
            }
        }
    }

    /**
     * Closes {@code t}'s listener and waits, bounded, until its ingress released what it keeps beyond it: a
     * durable spool appends and syncs what it was handed before the process may exit.
     */
    private static void close(Tunnel t, Channel ch) {
        ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        try {
            t.stopped().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            log.warn("tunnel {}: its ingress did not finish stopping within 10 s: {}", t.spec().label(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The link holding {@code server}'s remote listeners went down: the listeners went with it. */
    void linkDown(String server) {
        for (Tunnel t : list) {
            if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                t.unboundOn(server);
            }
        }
    }

    /** Asks the server for every remote tunnel's listener (a link came up). Link loop only. */
    void bindAll(Link up) {
        for (Tunnel t : list) {
            if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                up.write(bindFrame(up, t));
            }
        }
        up.flush();
    }

    /** Asks the server for remote tunnel {@code t}'s listener again (a BIND that failed). Link loop only. */
    void bind(Link up, Tunnel t) {
        up.writeAndFlush(bindFrame(up, t));
    }

    /** Withdraws every remote tunnel's listener (UNBIND; the client drains). Link loop only. */
    void unbindAll(Link up) {
        for (Tunnel t : list) {
            if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                up.write(new Frame.Unbind(t.id()));
            }
        }
        up.flush();
    }

    /**
     * The BIND that asks the server behind {@code up} for remote tunnel {@code t}'s listener. An optimistic
     * reverse dynamic listener needs early data, so a server that does not speak it gets a plain one.
     */
    private Frame.Bind bindFrame(Link up, Tunnel t) {
        TunnelSpec spec = t.spec();
        // the idle field carries idle= for UDP, record= for TCP push (see docs/PROTOCOL.md)
        int param = spec.udp() ? (int) spec.idle().toMillis() : spec.push() ? spec.recordMax() : 0;
        return new Frame.Bind(t.id(), spec.udp(), spec.push(), sole(), param, spec.maxChannels(), spec.bind(),
                spec.peer(), spec.dynamic(), spec.optimistic() && up.earlyData());
    }

    /**
     * Replaces the tunnels with {@code specs} ({@link SdtClient#reconfigure}): equal specs keep their
     * tunnel; new credentials for the router listeners restart the local dynamic ones.
     */
    TunnelChange reconfigure(List<TunnelSpec> specs, ProxyAuth auth) throws InterruptedException {
        boolean relistenDynamic = !Objects.equals(auth, proxyAuth);
        proxyAuth = auth;
        List<TunnelSpec> wanted = new ArrayList<>(specs);
        List<Tunnel> kept = new ArrayList<>();
        List<Tunnel> removed = new ArrayList<>();
        for (Tunnel t : list) {
            boolean relisten = relistenDynamic && t.spec().dynamic() && t.spec().direction() == TunnelSpec.Direction.LOCAL;
            if (!relisten && wanted.remove(t.spec())) {
                kept.add(t);
            } else {
                removed.add(t);
            }
        }
        for (Tunnel t : removed) {
            Channel ch = listeners.remove(t.id());
            if (ch != null) {
                close(t, ch);
            }
        }
        List<Tunnel> added = new ArrayList<>();
        for (TunnelSpec spec : wanted) {
            added.add(new Tunnel(nextId.getAndIncrement(), spec));
        }
        for (Tunnel t : added) {
            if (t.spec().direction() == TunnelSpec.Direction.LOCAL) {
                try {
                    listen(t);
                } catch (Exception e) {
                    log.error("tunnel {}: cannot listen: {}", t.spec().label(), e.getMessage());
                    t.failed("cannot listen: " + e.getMessage());
                }
            }
        }
        List<Tunnel> order = inOrder(specs, kept, added);
        ingress.loop().submit(() -> {
            removed.forEach(t -> byId.remove(t.id()));
            added.forEach(t -> byId.put(t.id(), t));
            list.clear();
            list.addAll(order);
            for (Link up : binders.get()) {
                for (Tunnel t : removed) {
                    if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                        up.write(new Frame.Unbind(t.id()));
                    }
                }
                for (Tunnel t : added) {
                    if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                        up.write(bindFrame(up, t));
                    }
                }
                up.flush();
            }
        }).sync();
        for (Tunnel t : removed) {
            log.info("tunnel {} removed", t.spec().label());
        }
        return new TunnelChange(kept, removed, added);
    }

    /** The kept and added tunnels in the order of {@code specs}. */
    private static List<Tunnel> inOrder(List<TunnelSpec> specs, List<Tunnel> kept, List<Tunnel> added) {
        List<Tunnel> pool = new ArrayList<>(kept);
        pool.addAll(added);
        List<Tunnel> order = new ArrayList<>();
        for (TunnelSpec spec : specs) {
            Tunnel t = pool.stream().filter(x -> x.spec().equals(spec)).findFirst().orElseThrow();
            pool.remove(t);
            order.add(t);
        }
        return order;
    }
}
