package io.sdt.core.tunnel.vpn;

import io.sdt.codec.IpPrefix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's addresses for its VPN clients. The first host of each pool is the server's own; each client
 * (known by the random id it sends, stable for the client's process) gets the next free host of each pool
 * and keeps it across reconnects while the server runs. When a pool is full, the address of the client
 * that has been away longest is taken back. Thread-safe (every method is synchronized: leases change
 * once per client connection).
 */
final class VpnPool {

    /** Hosts of an IPv6 pool scanned for a free one: a /64 is not walked to its end. */
    private static final long V6_SCAN = 1 << 16;

    /** One client's addresses. */
    record Lease(String client, IpPrefix v4, IpPrefix v6) {
        List<IpPrefix> addresses() {
            List<IpPrefix> l = new ArrayList<>(2);
            if (v4 != null) {
                l.add(v4);
            }
            if (v6 != null) {
                l.add(v6);
            }
            return l;
        }
    }

    /** Why a lease was refused: the request's fault ({@code denied}) or the pool's ({@code full}). */
    static final class Refused extends Exception {
        final boolean full;

        Refused(String message, boolean full) {
            super(message, null, false, false);
            this.full = full;
        }
    }

    private final IpPrefix v4Pool;
    private final IpPrefix v6Pool;
    /** Leases by client id, in order of their last release (the first is the longest away). */
    private final LinkedHashMap<String, Lease> leases = new LinkedHashMap<>();
    /** Connected channels per client: a reconnect's new channel may be admitted before the old one is gone. */
    private final Map<String, Integer> connected = new HashMap<>();
    private final Map<IpPrefix, String> holders = new HashMap<>();

    VpnPool(List<IpPrefix> pools) {
        IpPrefix four = null;
        IpPrefix six = null;
        for (IpPrefix p : pools) {
            if (p.ipv6()) {
                six = p.network();
            } else {
                four = p.network();
            }
        }
        this.v4Pool = four;
        this.v6Pool = six;
    }

    /** The server's own address in each pool: the first host, with the pool's prefix length. */
    List<IpPrefix> gateways() {
        List<IpPrefix> l = new ArrayList<>(2);
        if (v4Pool != null) {
            l.add(host(v4Pool, 1));
        }
        if (v6Pool != null) {
            l.add(host(v6Pool, 1));
        }
        return l;
    }

    /**
     * Leases addresses to client {@code id}: the ones it held before, else the ones it asks for (each must be
     * a free host of a pool), else the next free ones. The client counts as connected until {@link #release}.
     */
    synchronized Lease lease(byte[] id, List<IpPrefix> wanted) throws Refused {
        String client = HexFormat.of().formatHex(id);
        Lease held = leases.get(client);
        if (held != null && (wanted.isEmpty() || held.addresses().containsAll(withPoolLengths(wanted)))) {
            connected.merge(client, 1, Integer::sum);
            return held;
        }
        if (held != null) {
            drop(held); // it asks for other addresses now
        }
        IpPrefix v4 = null;
        IpPrefix v6 = null;
        for (IpPrefix w : wanted) {
            IpPrefix pool = w.ipv6() ? v6Pool : v4Pool;
            if (pool == null || !pool.contains(w.address())) {
                throw new Refused(w + " is not in the server's VPN pool (" + pools() + ")", false);
            }
            IpPrefix a = new IpPrefix(w.address(), pool.length());
            if (a.equals(host(pool, 1)) || a.equals(pool) || isBroadcast(a, pool)) {
                throw new Refused(w + " is the pool's network, broadcast or server address", false);
            }
            String other = holders.get(a);
            if (other != null && !other.equals(client)) {
                throw new Refused(w + " is held by another client", false);
            }
            if (w.ipv6()) {
                v6 = a;
            } else {
                v4 = a;
            }
        }
        if (v4 == null && v4Pool != null) {
            v4 = free(v4Pool);
        }
        if (v6 == null && v6Pool != null) {
            v6 = free(v6Pool);
        }
        Lease lease = new Lease(client, v4, v6);
        leases.put(client, lease);
        for (IpPrefix a : lease.addresses()) {
            holders.put(a, client);
        }
        connected.merge(client, 1, Integer::sum);
        return lease;
    }

    /** The client went away; its lease stays (its address is kept for it) until the pool needs it. */
    synchronized void release(Lease lease) {
        if (connected.merge(lease.client(), -1, Integer::sum) > 0) {
            return; // another channel of the same client (a reconnect) still holds it
        }
        connected.remove(lease.client());
        Lease l = leases.remove(lease.client());
        if (l != null) {
            leases.put(l.client(), l); // to the end: the most recently away
        }
    }

    private List<IpPrefix> withPoolLengths(List<IpPrefix> wanted) {
        List<IpPrefix> l = new ArrayList<>();
        for (IpPrefix w : wanted) {
            IpPrefix pool = w.ipv6() ? v6Pool : v4Pool;
            l.add(pool == null ? w : new IpPrefix(w.address(), pool.length()));
        }
        return l;
    }

    private String pools() {
        List<IpPrefix> l = new ArrayList<>();
        if (v4Pool != null) {
            l.add(v4Pool);
        }
        if (v6Pool != null) {
            l.add(v6Pool);
        }
        return l.toString();
    }

    private IpPrefix free(IpPrefix pool) throws Refused {
        long hosts = pool.ipv6() ? Math.min(V6_SCAN, 1L << Math.min(62, 128 - pool.length()))
                : (1L << (32 - pool.length())) - 1; // the last is the broadcast address
        for (long i = 2; i < hosts; i++) {
            IpPrefix a = host(pool, i);
            if (!holders.containsKey(a)) {
                return a;
            }
        }
        // full: take back the address of the client away longest
        for (Lease l : leases.values()) {
            if (!connected.containsKey(l.client())) {
                IpPrefix a = pool.ipv6() ? l.v6() : l.v4();
                if (a != null) {
                    drop(l);
                    return a;
                }
            }
        }
        throw new Refused("the VPN pool " + pool + " is full: every address is held by a connected client", true);
    }

    private void drop(Lease l) {
        leases.remove(l.client());
        for (IpPrefix a : l.addresses()) {
            holders.remove(a);
        }
    }

    private static boolean isBroadcast(IpPrefix a, IpPrefix pool) {
        if (pool.ipv6()) {
            return false;
        }
        int mask = pool.length() == 0 ? 0 : -1 << (32 - pool.length());
        return (IpPackets.v4(a.address()) | mask) == -1;
    }

    /** Host {@code n} of {@code pool} (n = 1: the first), with the pool's prefix length. */
    static IpPrefix host(IpPrefix pool, long n) {
        byte[] a = pool.address().clone();
        long carry = n;
        for (int i = a.length - 1; i >= 0 && carry != 0; i--) {
            long sum = (a[i] & 0xFF) + (carry & 0xFF);
            a[i] = (byte) sum;
            carry = (carry >>> 8) + (sum >>> 8);
        }
        return new IpPrefix(a, pool.length());
    }
}
