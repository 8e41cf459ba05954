package io.sdt.core.tunnel.vpn;

import io.sdt.codec.IpPrefix;

import java.util.List;

/**
 * A fixed set of IP networks ({@code --vpn-route}, a pool), asked per packet whether it holds an address:
 * masks are computed once, so a lookup is a few integer operations and allocates nothing. Immutable.
 */
final class Networks {

    private final int[] v4Net;
    private final int[] v4Mask;
    private final long[] v6Net;
    private final long[] v6Mask;
    private final List<IpPrefix> prefixes;

    Networks(List<IpPrefix> prefixes) {
        this.prefixes = List.copyOf(prefixes);
        int n4 = (int) prefixes.stream().filter(p -> !p.ipv6()).count();
        int n6 = prefixes.size() - n4;
        v4Net = new int[n4];
        v4Mask = new int[n4];
        v6Net = new long[2 * n6];
        v6Mask = new long[2 * n6];
        int i4 = 0;
        int i6 = 0;
        for (IpPrefix p : prefixes) {
            byte[] a = p.address();
            if (p.ipv6()) {
                for (int half = 0; half < 2; half++) {
                    int bits = Math.max(0, Math.min(64, p.length() - 64 * half));
                    long mask = bits == 0 ? 0 : -1L << (64 - bits);
                    v6Mask[2 * i6 + half] = mask;
                    v6Net[2 * i6 + half] = IpPackets.v6(a, half) & mask;
                }
                i6++;
            } else {
                int mask = p.length() == 0 ? 0 : -1 << (32 - p.length());
                v4Mask[i4] = mask;
                v4Net[i4] = IpPackets.v4(a) & mask;
                i4++;
            }
        }
    }

    boolean containsV4(int address) {
        for (int i = 0; i < v4Net.length; i++) {
            if ((address & v4Mask[i]) == v4Net[i]) {
                return true;
            }
        }
        return false;
    }

    boolean containsV6(long high, long low) {
        for (int i = 0; i < v6Net.length; i += 2) {
            if ((high & v6Mask[i]) == v6Net[i] && (low & v6Mask[i + 1]) == v6Net[i + 1]) {
                return true;
            }
        }
        return false;
    }

    List<IpPrefix> prefixes() {
        return prefixes;
    }

    boolean isEmpty() {
        return prefixes.isEmpty();
    }
}
