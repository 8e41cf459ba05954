package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.IpPrefix;
import io.sdt.core.link.Link;
import io.sdt.core.tun.Offload;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.List;

/**
 * The client's half of the L3 VPN ({@code sdt client --vpn}): a TUN device that outlives links. On every
 * link that comes up it opens one vpn channel and asks for its addresses (the ones it had, else the ones
 * configured, else any) with an id random per process, so a reconnect keeps its address; the first grant
 * configures the device (MTU, addresses, the routes: the client's own {@code --vpn-route} list if given,
 * else the ones the server offers). While no link is up, packets from the device are dropped and counted
 * (the applications' TCP retransmits once the link is back). Link work runs on the client's link loop;
 * the device is read on its own thread and packets cross in bursts.
 */
public final class VpnClient implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(VpnClient.class);

    private final VpnSettings.Client settings;
    private final VpnCounters counters;
    private final byte[] clientId = new byte[16];
    private VpnTun tun;
    /** The addresses the server granted last (link loop). */
    private List<IpPrefix> granted = List.of();
    private boolean routed;
    /** Whether the device's reads may be super-segments (link loop). */
    private boolean offloading;
    /** The channel of the link that is up and granted, or null (read on the device thread). */
    private volatile Channel current;
    private final Handover handover;

    public VpnClient(VpnSettings.Client settings, VpnCounters counters) {
        this.settings = settings;
        this.counters = counters;
        this.handover = new Handover(counters);
        new SecureRandom().nextBytes(clientId);
    }

    /**
     * Creates the device (no address until the server grants one) and starts reading it.
     *
     * @throws IllegalArgumentException naming {@code --vpn} if the device cannot be had (CAP_NET_ADMIN
     *                                  missing: the message says so)
     */
    public VpnClient start() throws InterruptedException {
        tun = VpnTun.open(settings.device(), VpnSettings.DEFAULT_MTU);
        try {
            tun.start(this::fromDevice, this::burstDone);
        } catch (InterruptedException | RuntimeException e) {
            tun.close();
            throw e;
        }
        return this;
    }

    public VpnCounters counters() {
        return counters;
    }

    public String device() {
        return tun == null ? settings.device() : tun.name();
    }

    /** The addresses the device has now (empty until the first grant). */
    public List<IpPrefix> addresses() {
        return tun == null ? List.of() : tun.addresses();
    }

    /** A link came up (its loop): open the VPN channel on it. */
    public void linkUp(Link link) {
        Channel ch = new Channel(link, link.allocateChannelId());
        link.register(ch.id, ch);
        List<IpPrefix> wanted = granted.isEmpty() ? settings.addresses() : granted;
        link.write(Frame.Open.vpn(ch.id, 0));
        link.writeAndFlush(new Frame.VpnConfig(ch.id, clientId, 0, VpnTun.OFFLOAD ? Frame.VPN_OFFLOAD : 0, wanted,
                List.of()));
    }

    /** The grant of {@code ch}'s link: configure the device the first time, or again if the addresses moved. */
    private void granted(Channel ch, Frame.VpnConfig grant) throws IOException {
        if (!grant.addresses().equals(granted)) {
            for (IpPrefix old : granted) {
                if (!grant.addresses().contains(old)) {
                    tun.removeAddress(old);
                }
            }
            for (IpPrefix a : grant.addresses()) {
                tun.addAddress(a);
            }
            log.info("VPN device {}: addresses {} (MTU {})", tun.name(), grant.addresses(), grant.mtu());
            granted = grant.addresses();
        }
        if (!routed) {
            List<IpPrefix> routes = settings.routes().isEmpty() ? grant.routes() : settings.routes();
            for (IpPrefix r : routes) {
                tun.addRoute(r);
            }
            routed = true;
            log.info("VPN device {}: routes {}", tun.name(), routes.isEmpty() ? "none" : routes);
        }
        if (grant.mtu() != tun.mtu()) {
            tun.setMtu(grant.mtu());
        }
        ch.offload = (grant.features() & Frame.VPN_OFFLOAD) != 0;
        if (ch.offload != offloading && tun.offload(ch.offload)) {
            offloading = ch.offload; // the kernel cuts nothing for a server that takes super-segments whole
        }
        current = ch;
        counters.peerUp();
    }

    // ---- the device's thread ---------------------------------------------------------------------------

    private void fromDevice(ByteBuf packet) {
        if (IpPackets.version(packet) == 0 || current == null) {
            counters.dropped(current == null ? VpnCounters.Drop.NO_PEER : VpnCounters.Drop.MALFORMED);
            packet.release();
            return;
        }
        handover.add(packet);
    }

    private void burstDone() {
        Channel ch = current;
        if (ch == null) {
            handover.discard(VpnCounters.Drop.NO_PEER);
        } else {
            handover.handOver(ch.link, ch::send);
        }
    }

    @Override
    public void close() {
        current = null;
        if (tun != null) {
            tun.close();
        }
    }

    /** The vpn channel of one link. Link loop. */
    private final class Channel extends VpnChannel {
        boolean open;
        boolean granted;
        /** Whether the server takes and sends packets with the offload header. */
        boolean offload;

        Channel(Link link, int id) {
            super(link, id);
        }

        @Override
        public void onOpenOk(int window) {
            open = true;
        }

        @Override
        public boolean onVpnConfig(Frame.VpnConfig grant) {
            if (!open || granted || grant.addresses().isEmpty()) {
                return false; // one grant per channel, after OPEN_OK, with an address
            }
            granted = true;
            try {
                granted(this, grant);
            } catch (IOException e) {
                log.error("VPN device {}: cannot apply the server's grant {}: {}", tun.name(), grant.addresses(),
                        e.getMessage());
                link.writeAndFlush(new Frame.Close(id, ErrorCode.GENERAL));
                end();
                link.unregister(id);
            }
            return true;
        }

        @Override
        public void onOpenFail(ErrorCode code, String message) {
            closed = true;
            link.unregister(id);
            log.error("VPN refused by the server ({}): {}", code, message);
        }

        /** Link loop: a packet from the device leaves as a DATAGRAM (cut first if the server takes no offloads). */
        void send(ByteBuf packet) {
            if (!offload && Offload.marked(packet)) { // read before the offloads were turned off
                counters.superSegmentCut();
                try {
                    Offload.toPlain(packet, packet.alloc(), this::send);
                } finally {
                    packet.release();
                }
                return;
            }
            if (closed || link.isClosed() || !link.canTakeDatagram(id, false)) {
                counters.dropped(VpnCounters.Drop.CONGESTED);
                packet.release();
                return;
            }
            counters.toLink(packet.readableBytes());
            counters.superSegment(packet, true);
            link.write(new Frame.Datagram(id, packet));
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            try {
                counters.fromLink(payload.readableBytes());
                int version = IpPackets.version(payload);
                if (version == 0 || Offload.marked(payload) && !offload) {
                    counters.dropped(VpnCounters.Drop.MALFORMED);
                } else {
                    counters.superSegment(payload, false);
                    if (!tun.write(payload)) {
                        counters.dropped(VpnCounters.Drop.TUN_ERROR);
                    }
                }
            } finally {
                payload.release();
            }
        }

        @Override
        void ended() {
            if (current == this) {
                current = null;
                counters.peerDown();
            }
        }
    }
}
