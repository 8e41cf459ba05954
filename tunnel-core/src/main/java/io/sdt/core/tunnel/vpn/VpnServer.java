package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.netty.util.collection.IntObjectHashMap;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.IpPrefix;
import io.sdt.core.link.Link;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's half of the L3 VPN ({@code --vpn}): one TUN device with the first address of each pool,
 * and one channel per client, on that client's link. A client's OPEN (vpn flag) and VPN_CONFIG get it a
 * lease from the {@link VpnPool} and the routes; from then on its packets arrive as DATAGRAMs
 * ({@link VpnServerPeer}) and packets from the device go to the client that holds their destination.
 *
 * <p>Routing, deny by default: a client may send from its own addresses only, to the server's own address
 * and to the {@code --vpn-route} networks; a packet to another client's address is handed to that client
 * directly when a route covers it, and anything else is dropped and counted. Packets the device gives for an
 * address no connected client holds are dropped and counted.
 *
 * <p>Threads: the device is read on its own thread ({@link VpnTun}); each peer lives on its link's event
 * loop. The address table is copied on every change (a client connecting) and read without locks per
 * packet; packets for a peer are collected over one device read burst and handed to its loop together.
 */
public final class VpnServer implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(VpnServer.class);

    private final VpnSettings.Server settings;
    private final VpnCounters counters;
    private final VpnPool pool;
    private final Networks routes;
    private final Networks pools;
    private final int gatewayV4;
    private final long gatewayV6High;
    private final long gatewayV6Low;
    private VpnTun tun;
    /** IPv4 address -> peer, replaced whole on every change; read per packet. */
    private volatile IntObjectHashMap<VpnServerPeer> byV4 = new IntObjectHashMap<>();
    /** IPv6 address -> peer, the same way. */
    private volatile Map<V6, VpnServerPeer> byV6 = new HashMap<>();
    /** Peers with packets collected in the current device read burst (device thread only). */
    private final List<VpnServerPeer> pending = new ArrayList<>();

    record V6(long high, long low) {
    }

    public VpnServer(VpnSettings.Server settings, VpnCounters counters) {
        this.settings = settings;
        this.counters = counters;
        this.pool = new VpnPool(settings.pools());
        this.routes = new Networks(settings.routes());
        this.pools = new Networks(settings.pools());
        int v4 = 0;
        long h = 0;
        long l = 0;
        for (IpPrefix g : pool.gateways()) {
            if (g.ipv6()) {
                h = IpPackets.v6(g.address(), 0);
                l = IpPackets.v6(g.address(), 1);
            } else {
                v4 = IpPackets.v4(g.address());
            }
        }
        this.gatewayV4 = v4;
        this.gatewayV6High = h;
        this.gatewayV6Low = l;
    }

    /**
     * Creates and configures the device and starts reading it.
     *
     * @throws IllegalArgumentException naming {@code --vpn} if the device cannot be had or configured
     *                                  (CAP_NET_ADMIN missing, IPv6 disabled: the message says which)
     */
    public VpnServer start() throws InterruptedException {
        tun = VpnTun.open(settings.device(), settings.mtu());
        try {
            for (IpPrefix g : pool.gateways()) {
                try {
                    tun.addAddress(g);
                } catch (IOException e) {
                    throw new IllegalArgumentException("--vpn: cannot give " + tun.name() + " the address " + g + ": "
                            + e.getMessage(), e);
                }
            }
            tun.offload(true);
            tun.start(this::fromDevice, this::burstDone);
        } catch (InterruptedException | RuntimeException e) {
            tun.close();
            throw e;
        }
        log.info("VPN device {} up: {} (MTU {}{}), clients from {}, routes offered {}", tun.name(), pool.gateways(),
                settings.mtu(), tun.offloads() ? ", offloads" : "", settings.pools(),
                settings.routes().isEmpty() ? "none" : settings.routes());
        return this;
    }

    public VpnCounters counters() {
        return counters;
    }

    /** The clients connected now, each once, oldest first. */
    public java.util.List<VpnPeerView> peers() {
        java.util.Set<VpnServerPeer> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        all.addAll(byV4.values());
        all.addAll(byV6.values());
        java.util.List<VpnPeerView> out = new java.util.ArrayList<>(all.size());
        for (VpnServerPeer p : all) {
            VpnPool.Lease lease = p.lease;
            if (lease != null) {
                out.add(new VpnPeerView(lease.client().substring(0, Math.min(8, lease.client().length())),
                        lease.addresses(), String.valueOf(p.link), p.admittedAt));
            }
        }
        out.sort(java.util.Comparator.comparingLong(VpnPeerView::sinceMillis));
        return out;
    }

    public String device() {
        return tun == null ? settings.device() : tun.name();
    }

    /** A client's OPEN with the vpn flag (link loop): the channel waits for the client's VPN_CONFIG. */
    public void open(Link link, Frame.Open open) {
        VpnServerPeer peer = new VpnServerPeer(this, link, open.channel());
        link.register(open.channel(), peer);
    }

    // ---- what peers ask of the server (their link loop) -------------------------------------------------

    /** Leases addresses to the peer's client and enters them in the table; the grant to send back. */
    Frame.VpnConfig admit(VpnServerPeer peer, Frame.VpnConfig request) throws VpnPool.Refused {
        VpnPool.Lease lease = pool.lease(request.clientId(), request.addresses());
        peer.admittedAt = System.currentTimeMillis();
        peer.lease = lease;
        int features = request.features() & (VpnTun.OFFLOAD ? Frame.VPN_OFFLOAD : 0);
        peer.offload = (features & Frame.VPN_OFFLOAD) != 0;
        synchronized (this) {
            IntObjectHashMap<VpnServerPeer> four = new IntObjectHashMap<>(byV4.size() + 1);
            four.putAll(byV4);
            Map<V6, VpnServerPeer> six = new HashMap<>(byV6);
            if (lease.v4() != null) {
                four.put(IpPackets.v4(lease.v4().address()), peer); // a reconnect replaces the old link's peer
            }
            if (lease.v6() != null) {
                six.put(v6Key(lease.v6()), peer);
            }
            byV4 = four;
            byV6 = six;
        }
        counters.peerUp();
        log.info("{}: VPN client {} has {}", peer.link, lease.client().substring(0, 8), lease.addresses());
        return new Frame.VpnConfig(peer.id, request.clientId(), settings.mtu(), features, lease.addresses(),
                settings.routes());
    }

    /** The peer's channel ended: its addresses leave the table (unless a newer peer holds them already). */
    void leave(VpnServerPeer peer) {
        VpnPool.Lease lease = peer.lease;
        if (lease == null) {
            return;
        }
        synchronized (this) {
            IntObjectHashMap<VpnServerPeer> four = new IntObjectHashMap<>(byV4.size());
            four.putAll(byV4);
            Map<V6, VpnServerPeer> six = new HashMap<>(byV6);
            if (lease.v4() != null) {
                four.remove(IpPackets.v4(lease.v4().address()), peer);
            }
            if (lease.v6() != null) {
                six.remove(v6Key(lease.v6()), peer);
            }
            byV4 = four;
            byV6 = six;
        }
        pool.release(lease);
        counters.peerDown();
    }

    /**
     * A well-formed packet from a client whose source is its own: to the device, to another client, or
     * dropped (not routed). Called on the sender's link loop; the packet stays the caller's.
     */
    void route(VpnServerPeer from, ByteBuf packet, int version) {
        if (version == 4) {
            int dst = IpPackets.v4Destination(packet);
            if (dst == gatewayV4) {
                toDevice(packet);
                return;
            }
            if (!routes.containsV4(dst)) {
                counters.dropped(VpnCounters.Drop.NOT_ROUTED);
                return;
            }
            VpnServerPeer to = pools.containsV4(dst) ? byV4.get(dst) : null;
            if (to != null) {
                to.sendFromAnotherLoop(packet.retainedDuplicate());
            } else {
                toDevice(packet);
            }
        } else {
            long h = IpPackets.v6Destination(packet, 0);
            long l = IpPackets.v6Destination(packet, 1);
            if (h == gatewayV6High && l == gatewayV6Low) {
                toDevice(packet);
                return;
            }
            if (!routes.containsV6(h, l)) {
                counters.dropped(VpnCounters.Drop.NOT_ROUTED);
                return;
            }
            VpnServerPeer to = pools.containsV6(h, l) ? byV6.get(new V6(h, l)) : null;
            if (to != null) {
                to.sendFromAnotherLoop(packet.retainedDuplicate());
            } else {
                toDevice(packet);
            }
        }
    }

    private void toDevice(ByteBuf packet) {
        if (!tun.write(packet)) {
            counters.dropped(VpnCounters.Drop.TUN_ERROR);
        }
    }

    int mtu() {
        return settings.mtu();
    }

    /** The ICMP too-big answer to {@code packet}, from the server's own address; null if it has none of that family. */
    ByteBuf tooBig(ByteBuf packet, int version) {
        if (version == 4) {
            return gatewayV4 == 0 ? null : IcmpTooBig.v4(packet.alloc(), packet, gatewayV4, settings.mtu());
        }
        return gatewayV6High == 0 && gatewayV6Low == 0 ? null
                : IcmpTooBig.v6(packet.alloc(), packet, gatewayV6High, gatewayV6Low, settings.mtu());
    }

    // ---- the device's thread ---------------------------------------------------------------------------

    private void fromDevice(ByteBuf packet) {
        int version = IpPackets.version(packet);
        VpnServerPeer to = null;
        if (version == 4) {
            to = byV4.get(IpPackets.v4Destination(packet));
        } else if (version == 6) {
            to = byV6.get(new V6(IpPackets.v6Destination(packet, 0), IpPackets.v6Destination(packet, 1)));
        } else {
            counters.dropped(VpnCounters.Drop.MALFORMED);
        }
        if (to == null) {
            if (version != 0) {
                counters.dropped(VpnCounters.Drop.NO_PEER);
            }
            packet.release();
            return;
        }
        if (to.collect(packet)) {
            pending.add(to);
        }
    }

    private void burstDone() {
        for (VpnServerPeer p : pending) {
            p.handOver();
        }
        pending.clear();
    }

    private static V6 v6Key(IpPrefix a) {
        return new V6(IpPackets.v6(a.address(), 0), IpPackets.v6(a.address(), 1));
    }

    @Override
    public void close() {
        if (tun != null) {
            tun.close();
        }
    }

    /** Refusal codes for a lease: the pool is full (LIMIT) or the request is not acceptable (DENIED). */
    static ErrorCode code(VpnPool.Refused r) {
        return r.full ? ErrorCode.LIMIT : ErrorCode.DENIED;
    }
}
