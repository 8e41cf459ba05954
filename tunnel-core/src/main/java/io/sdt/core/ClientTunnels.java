package io.sdt.core;

import io.netty.channel.Channel;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.dynamic.DynamicListener;
import io.sdt.core.tunnel.push.PushIngress;
import io.sdt.core.tunnel.router.RouterSettings;
import io.sdt.core.tunnel.tcp.TcpListener;
import io.sdt.core.tunnel.udp.UdpIngress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The tunnels of one {@link SdtClient}: their ids, the listeners of the local ones, and how a
 * reload changes them. Ids are never reused within a client, so a BIND_OK that crossed an UNBIND
 * cannot be taken for a new tunnel's. The list is copy-on-write; it changes (and the BIND and
 * UNBIND frames that go with a change are sent) on the link's loop, where a link coming up reads it.
 */
final class ClientTunnels {

    private static final Logger log = LogManager.getLogger(ClientTunnels.class);

    private final SdtClient client;
    private final List<Tunnel> list = new CopyOnWriteArrayList<>();
    private final Map<Integer, Tunnel> byId = new ConcurrentHashMap<>();
    private final Map<Integer, Channel> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);

    ClientTunnels(SdtClient client, List<TunnelSpec> specs) {
        this.client = client;
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

    boolean issued(int id) {
        return id >= 1 && id < nextId.get();
    }

    /**
     * True if the link carries exactly one tunnel and it is a direct UDP tunnel with an exact peer:
     * then its one channel sends datagrams with no channel-id bytes (SOLE_DATAGRAM).
     */
    boolean sole() {
        return sole(list.stream().map(Tunnel::spec).toList());
    }

    static boolean sole(List<TunnelSpec> specs) {
        if (specs.size() != 1) {
            return false;
        }
        TunnelSpec s = specs.getFirst();
        return s.udp() && s.peer() != null && s.peer().port() != 0;
    }

    /** Binds the listener of every local tunnel (at start). */
    void listenAll() throws InterruptedException {
        for (Tunnel t : list) {
            if (t.spec().direction() == TunnelSpec.Direction.LOCAL) {
                listen(t);
            }
        }
    }

    private void listen(Tunnel t) throws InterruptedException {
        TunnelSpec spec = t.spec();
        var transport = client.config().transport();
        Channel ch = (spec.dynamic()
                ? DynamicListener.bind(client.group(), transport, spec.bind(), t, t.id(), client::link,
                        RouterSettings.of(client.proxyAuth(), transport.datagramChannel()), client.routerStats())
                : spec.push() && !spec.udp()
                ? PushIngress.bind(client.linkLoop(), transport, spec.bind(), t, t.id(), spec.target(), client::link)
                : spec.udp()
                ? UdpIngress.bind(client.linkLoop(), transport, spec.bind(), t, t.id(), spec.target(), client::link,
                        client.config().ticker(), sole())
                : TcpListener.bind(client.group(), transport, spec.bind(), t, t.id(), spec.target(), client::link))
                .sync().channel();
        listeners.put(t.id(), ch);
        InetSocketAddress bound = (InetSocketAddress) ch.localAddress();
        t.bound(bound);
        log.info("tunnel {} listening on {}", spec.label(), HostPort.of(bound));
    }

    void closeListeners() {
        for (Channel ch : listeners.values()) {
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    /** The BIND that asks the server for remote tunnel {@code t}'s listener. */
    Frame.Bind bindFrame(Tunnel t) {
        TunnelSpec spec = t.spec();
        // the idle field carries idle= for UDP, record= for TCP push (see docs/PROTOCOL.md)
        int param = spec.udp() ? (int) spec.idle().toMillis() : spec.push() ? spec.recordMax() : 0;
        return new Frame.Bind(t.id(), spec.udp(), spec.push(), sole(), param, spec.maxChannels(), spec.bind(),
                spec.peer(), spec.dynamic());
    }

    /**
     * Replaces the tunnels with {@code specs} ({@link SdtClient#reconfigure}): equal specs keep their
     * tunnel; {@code relistenDynamic} (the proxy credentials changed) restarts local dynamic ones.
     */
    SdtClient.Change reconfigure(List<TunnelSpec> specs, boolean relistenDynamic) throws InterruptedException {
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
                ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
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
        List<Tunnel> pool = new ArrayList<>(kept);
        pool.addAll(added);
        List<Tunnel> order = new ArrayList<>();
        for (TunnelSpec spec : specs) {
            Tunnel t = pool.stream().filter(x -> x.spec().equals(spec)).findFirst().orElseThrow();
            pool.remove(t);
            order.add(t);
        }
        client.linkLoop().submit(() -> {
            removed.forEach(t -> byId.remove(t.id()));
            added.forEach(t -> byId.put(t.id(), t));
            list.clear();
            list.addAll(order);
            Link up = client.link();
            if (up != null && !up.isClosed()) {
                for (Tunnel t : removed) {
                    if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                        up.write(new Frame.Unbind(t.id()));
                    }
                }
                for (Tunnel t : added) {
                    if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                        up.write(bindFrame(t));
                    }
                }
                up.flush();
            }
        }).sync();
        for (Tunnel t : removed) {
            log.info("tunnel {} removed", t.spec().label());
        }
        return new SdtClient.Change(kept, removed, added);
    }
}
