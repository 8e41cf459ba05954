package io.sdt.core.tunnel;

import io.netty.util.NetUtil;
import io.sdt.codec.HostPort;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * Direct mode's filter: the one source ({@code peer=IP:PORT}, or {@code IP:*} for any port of it) that
 * a tunnel's listener accepts; the listener drops and counts every other connection or datagram. An
 * IPv4 peer also matches its IPv4-mapped IPv6 form (a dual-stack listener). The address is parsed once,
 * not per datagram. Immutable.
 */
public final class PeerFilter {

    /** Admits every source: the tunnel is not direct. */
    public static final PeerFilter ANY = new PeerFilter(null, 0);
    /** Admits no source: a peer that is not an IP address (the parser refuses those; a BIND might not). */
    private static final PeerFilter NONE = new PeerFilter(new byte[0], 0);

    private final byte[] address;
    private final int port;

    private PeerFilter(byte[] address, int port) {
        this.address = address;
        this.port = port;
    }

    /** The filter of {@code peer=}; {@link #ANY} for {@code null}. */
    public static PeerFilter of(HostPort peer) {
        if (peer == null) {
            return ANY;
        }
        byte[] a = NetUtil.createByteArrayFromIpAddressString(peer.host());
        return a == null ? NONE : new PeerFilter(a, peer.port());
    }

    /** True if {@code source} is the peer (or the tunnel is not direct). */
    public boolean admits(InetSocketAddress source) {
        if (address == null) {
            return true;
        }
        if (port != 0 && port != source.getPort()) {
            return false;
        }
        InetAddress ip = source.getAddress();
        if (ip == null) {
            return false;
        }
        byte[] got = ip.getAddress();
        if (got.length == 16 && address.length == 4 && isV4Mapped(got)) {
            got = Arrays.copyOfRange(got, 12, 16);
        }
        return Arrays.equals(address, got);
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
    }
}
