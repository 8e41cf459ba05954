package io.sdt.core.tun;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.function.Consumer;

/**
 * TUN offloads: the 10-byte {@code virtio_net_hdr} a device opened with {@code IFF_VNET_HDR} puts before
 * every packet, and what to do with the two kinds of packet it announces once {@code TUNSETOFFLOAD} is on:
 * a TCP super-segment of up to 64 KiB ({@code gso_type} TCPv4/TCPv6, cut into {@code gso_size} pieces by
 * whoever sends it on a wire) and a packet whose checksum is still to be completed ({@code NEEDS_CSUM}:
 * the field holds the pseudo-header sum, the rest is summed from {@code csum_start}).
 *
 * <p>Wire form (the VPN's offload feature): the same ten bytes, fields in network order:
 * {@code [flags] [gso type] <hdr len 2> <gso size 2> <csum start 2> <csum offset 2>}, then the IP packet.
 * An IP packet starts with its version (4 or 6) in the high nibble, the header with flags 0-3, so a
 * receiver tells them apart by the first byte. A packet that needs neither offload travels bare.
 * Conversions happen in place; nothing here changes reader or writer indexes unless it says so.
 */
public final class Offload {

    /** Bytes of the header, on the device and on the wire. */
    public static final int VNET_HEADER = 10;
    public static final int NEEDS_CSUM = 1;
    public static final int DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_ECN = 0x80;
    /** Most pieces a super-segment may be cut into: 64 KiB of 64-byte segments. */
    static final int MAX_SEGMENTS = 1024;

    private static final int FLAGS = 0;
    private static final int GSO_TYPE = 1;
    private static final int GSO_SIZE = 4;
    private static final int CSUM_START = 6;
    private static final int CSUM_OFFSET = 8;
    private static final int TCP = 6;
    private static final int TCP_CHECK = 16;
    private static final int FIN = 0x01;
    private static final int PSH = 0x08;
    private static final int CWR = 0x80;

    private Offload() {
    }

    /** True if the bytes at the reader index start with the header rather than an IP packet. */
    public static boolean marked(ByteBuf p) {
        return p.isReadable() && (p.getUnsignedByte(p.readerIndex()) & 0xF0) == 0;
    }

    /**
     * A packet as the device gave it (header at the reader index, little-endian fields) to its wire form:
     * a packet that needs no offload loses the header (the reader index moves past it); otherwise the
     * header stays with its fields turned to network order.
     *
     * @return whether the header stayed
     */
    public static boolean fromDevice(ByteBuf p) {
        int r = p.readerIndex();
        int flags = p.getUnsignedByte(r + FLAGS);
        if ((flags & NEEDS_CSUM) == 0 && p.getUnsignedByte(r + GSO_TYPE) == GSO_NONE) {
            p.skipBytes(VNET_HEADER);
            return false;
        }
        p.setByte(r + FLAGS, flags & NEEDS_CSUM); // DATA_VALID is the device's news for its own reader only
        swap(p);
        return true;
    }

    /** A marked packet's header back to the device's (little-endian) fields, in place. */
    public static void toDevice(ByteBuf p) {
        swap(p);
    }

    private static void swap(ByteBuf p) {
        int r = p.readerIndex();
        for (int at = r + 2; at < r + VNET_HEADER; at += 2) {
            p.setShort(at, Short.reverseBytes(p.getShort(at)));
        }
    }

    /** The GSO type of a marked packet in wire form, without the ECN bit. */
    public static int gsoType(ByteBuf p) {
        return p.getUnsignedByte(p.readerIndex() + GSO_TYPE) & ~GSO_ECN;
    }

    static int gsoSize(ByteBuf p) {
        return p.getUnsignedShort(p.readerIndex() + GSO_SIZE);
    }

    static int csumStart(ByteBuf p) {
        return p.getUnsignedShort(p.readerIndex() + CSUM_START);
    }

    static int csumOffset(ByteBuf p) {
        return p.getUnsignedShort(p.readerIndex() + CSUM_OFFSET);
    }

    /**
     * Why a marked packet in wire form (from a peer: untrusted) cannot be accepted, or null if it can. The
     * IP packet after the header has already been found well formed, of IP version {@code version}. A
     * super-segment must be the plain kind every kernel makes: TCP right after a header without options
     * (IPv4) or extension headers (IPv6), checksum to complete at the TCP field, a sane segment size.
     */
    public static String invalid(ByteBuf p, int version) {
        int r = p.readerIndex();
        int ip = r + VNET_HEADER;
        int len = p.writerIndex() - ip;
        int flags = p.getUnsignedByte(r + FLAGS);
        int raw = p.getUnsignedByte(r + GSO_TYPE);
        int gso = raw & ~GSO_ECN;
        int start = csumStart(p);
        int offset = csumOffset(p);
        if ((flags & ~NEEDS_CSUM) != 0) {
            return "unknown offload flags " + flags;
        }
        if ((flags & NEEDS_CSUM) != 0 && (start < 20 || start + offset + 2 > len)) {
            return "checksum field outside the packet";
        }
        if (gso == GSO_NONE) {
            return raw == GSO_NONE && (flags & NEEDS_CSUM) != 0 ? null : "an offload header announcing nothing";
        }
        if (gso != GSO_TCPV4 && gso != GSO_TCPV6) {
            return "unsupported GSO type " + raw;
        }
        if ((gso == GSO_TCPV4) != (version == 4) || (flags & NEEDS_CSUM) == 0 || offset != TCP_CHECK) {
            return "a TCP super-segment that does not say where its checksum goes";
        }
        int ipHeader = version == 4 ? (p.getUnsignedByte(ip) & 0x0F) * 4 : 40;
        int protocol = p.getUnsignedByte(ip + (version == 4 ? 9 : 6));
        if (protocol != TCP || start != ipHeader || start + 20 > len) {
            return "a super-segment that is not TCP right after its IP header";
        }
        int tcpHeader = (p.getUnsignedByte(ip + start + 12) >>> 4) * 4;
        int size = gsoSize(p);
        if (tcpHeader < 20 || start + tcpHeader > len || size == 0
                || (len - start - tcpHeader + size - 1) / size > MAX_SEGMENTS) {
            return "a super-segment with a bad TCP header or segment size " + size;
        }
        return null;
    }

    /**
     * The length of the longest IP packet a marked packet (wire form, {@link #invalid} said null) becomes
     * once cut: its IP and TCP headers plus one segment; a packet that is not a super-segment is as long as
     * it is.
     */
    public static int segmentLength(ByteBuf p) {
        int ip = p.readerIndex() + VNET_HEADER;
        int len = p.writerIndex() - ip;
        if (gsoType(p) == GSO_NONE) {
            return len;
        }
        int start = csumStart(p);
        int headers = start + (p.getUnsignedByte(ip + start + 12) >>> 4) * 4;
        return Math.min(len, headers + gsoSize(p));
    }

    /**
     * Turns a marked packet in wire form ({@link #invalid} said null) into plain IP packets for a receiver
     * that takes no offloads: a super-segment is cut into segments of its segment size, each with its own
     * IP length (and IPv4 id and header checksum), TCP sequence number, flags (FIN and PSH only on the
     * last, CWR only on the first) and full checksum; a packet whose checksum was pending gets it. Each
     * packet goes to {@code out}, which owns it; {@code p} stays the caller's.
     */
    public static void toPlain(ByteBuf p, ByteBufAllocator alloc, Consumer<ByteBuf> out) {
        int ip = p.readerIndex() + VNET_HEADER;
        int len = p.writerIndex() - ip;
        int start = csumStart(p);
        if (gsoType(p) == GSO_NONE) {
            ByteBuf s = alloc.directBuffer(len);
            s.writeBytes(p, ip, len);
            int field = start + csumOffset(p);
            int sum = Checksums.finish(Checksums.add(0, s, start, len - start));
            s.setShort(field, sum == 0 && csumOffset(p) == 6 ? 0xFFFF : sum); // UDP sends 0 as all ones
            out.accept(s);
            return;
        }
        boolean v4 = gsoType(p) == GSO_TCPV4;
        int tcpHeader = (p.getUnsignedByte(ip + start + 12) >>> 4) * 4;
        int headers = start + tcpHeader;
        int payload = len - headers;
        int size = gsoSize(p);
        long seq = p.getUnsignedInt(ip + start + 4);
        int tcpFlags = p.getUnsignedByte(ip + start + 13);
        int id = v4 ? p.getUnsignedShort(ip + 4) : 0;
        int i = 0;
        int off = 0;
        do {
            int n = Math.min(size, payload - off);
            ByteBuf s = alloc.directBuffer(headers + n);
            s.writeBytes(p, ip, headers);
            s.writeBytes(p, ip + headers + off, n);
            if (v4) {
                s.setShort(2, headers + n);
                s.setShort(4, (id + i) & 0xFFFF);
                s.setShort(10, 0);
                s.setShort(10, Checksums.finish(Checksums.add(0, s, 0, start)));
            } else {
                s.setShort(4, headers + n - 40);
            }
            s.setInt(start + 4, (int) (seq + off));
            int f = tcpFlags;
            if (off + n < payload) {
                f &= ~(FIN | PSH);
            }
            if (i > 0) {
                f &= ~CWR;
            }
            s.setByte(start + 13, f);
            s.setShort(start + TCP_CHECK, 0);
            int segment = tcpHeader + n;
            long acc = v4 ? Checksums.add(0, s, 12, 8) : Checksums.add(0, s, 8, 32);
            acc = Checksums.add(Checksums.add(acc, segment), TCP);
            s.setShort(start + TCP_CHECK, Checksums.finish(Checksums.add(acc, s, start, segment)));
            out.accept(s);
            off += n;
            i++;
        } while (off < payload);
    }
}
