package io.sdt.core.tunnel.vpn;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.netty.buffer.ByteBuf;
import io.sdt.core.tun.Offload;

/** The VPN's counters of one node: peers, packets and bytes each way, drops by reason. Thread-safe. */
public final class VpnCounters {

    /** Why a packet was dropped; the {@code reason} tag of {@code sdt_vpn_drops_total}. */
    public enum Drop {
        /** Too short, an unknown IP version, or lengths that do not hold together. */
        MALFORMED,
        /** From a client, with a source address that is not the one it was granted. */
        SPOOFED,
        /** From a client, to an address outside the routes the server offers (deny by default). */
        NOT_ROUTED,
        /** From the server's TUN, to an address no connected client holds. */
        NO_PEER,
        /** The link already held too much for this peer: dropped, as a congested router would. */
        CONGESTED,
        /** Larger than the VPN's MTU: answered with ICMP too-big where the packet allowed. */
        TOO_BIG,
        /** The TUN device would not take it. */
        TUN_ERROR;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final AtomicInteger peers = new AtomicInteger();
    private final LongAdder packetsToLink = new LongAdder();
    private final LongAdder packetsFromLink = new LongAdder();
    private final LongAdder bytesToLink = new LongAdder();
    private final LongAdder bytesFromLink = new LongAdder();
    private final LongAdder superSegmentsToLink = new LongAdder();
    private final LongAdder superSegmentsFromLink = new LongAdder();
    private final LongAdder cut = new LongAdder();
    private final Map<Drop, LongAdder> drops = new EnumMap<>(Drop.class);

    public VpnCounters() {
        for (Drop d : Drop.values()) {
            drops.put(d, new LongAdder());
        }
    }

    void peerUp() {
        peers.incrementAndGet();
    }

    void peerDown() {
        peers.decrementAndGet();
    }

    void toLink(int bytes) {
        packetsToLink.increment();
        bytesToLink.add(bytes);
    }

    void fromLink(int bytes) {
        packetsFromLink.increment();
        bytesFromLink.add(bytes);
    }

    /** A packet in wire form went to ({@code out}) or came from the link: counts it if it is a super-segment. */
    void superSegment(ByteBuf packet, boolean out) {
        if (Offload.marked(packet) && Offload.gsoType(packet) != Offload.GSO_NONE) {
            (out ? superSegmentsToLink : superSegmentsFromLink).increment();
        }
    }

    /** A super-segment was cut in software for a peer that takes no offloads. */
    void superSegmentCut() {
        cut.increment();
    }

    void dropped(Drop reason) {
        drops.get(reason).increment();
    }

    /** VPN peers connected now: clients on a server, 1 or 0 on a client. */
    public int peers() {
        return peers.get();
    }

    public long packetsToLink() {
        return packetsToLink.sum();
    }

    public long packetsFromLink() {
        return packetsFromLink.sum();
    }

    public long bytesToLink() {
        return bytesToLink.sum();
    }

    public long bytesFromLink() {
        return bytesFromLink.sum();
    }

    /** TCP super-segments (up to 64 KiB, cut by the far device) sent to the link. */
    public long superSegmentsToLink() {
        return superSegmentsToLink.sum();
    }

    public long superSegmentsFromLink() {
        return superSegmentsFromLink.sum();
    }

    /** Super-segments cut into packets here because their receiver takes no offloads. */
    public long superSegmentsCut() {
        return cut.sum();
    }

    public long drops(Drop reason) {
        return drops.get(reason).sum();
    }
}
