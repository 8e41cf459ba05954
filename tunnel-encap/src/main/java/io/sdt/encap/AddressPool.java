package io.sdt.encap;

import java.util.function.IntPredicate;

/**
 * The IPv4 addresses the server may give to authenticated peers: by default the TUN's own subnet
 * (its first address and netmask), otherwise a CIDR from {@code --pool}. Never the network or broadcast
 * address (for prefixes up to /30) and never the TUN's own address. Immutable.
 *
 * <p>An address is chosen deterministically from the peer's (saddr, sport): a 64-bit mix of the pair picks
 * a start in the pool, then the pool is probed linearly until a free address is found. The same peer
 * therefore usually gets the same address back after an expiry, and two peers never share one because
 * the caller's {@code taken} test consults the connection_store's reverse map.
 */
final class AddressPool {

    private final int first;
    private final int size;
    private final int exclude;
    private final String cidr;

    /**
     * @param network any address inside the pool (host bits are ignored)
     * @param prefix 0..32
     * @param exclude an address never handed out (the TUN's own), or 0
     */
    AddressPool(int network, int prefix, int exclude) {
        if (prefix < 8 || prefix > 32) {
            throw new IllegalArgumentException("pool prefix /" + prefix + " is out of range (expected /8 to /32)");
        }
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        int net = network & mask;
        long count = 1L << (32 - prefix);
        if (prefix <= 30) {
            this.first = net + 1;
            this.size = (int) (count - 2);
        } else {
            this.first = net;
            this.size = (int) count;
        }
        this.exclude = exclude;
        this.cidr = Ipv4.toString(net) + "/" + prefix;
    }

    /** The pool of a TUN with address {@code address} and netmask {@code netmask} (both big-endian ints). */
    static AddressPool ofInterface(int address, int netmask) {
        return new AddressPool(address, Integer.bitCount(netmask), address);
    }

    /**
     * Parses {@code A.B.C.D/N}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static AddressPool parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("expected A.B.C.D/PREFIX");
        }
        String ip = text.substring(0, slash);
        String[] parts = ip.split("\\.", -1);
        int address = 0;
        for (String part : parts) {
            if (parts.length != 4 || !part.matches("\\d{1,3}") || Integer.parseInt(part) > 255) {
                throw new IllegalArgumentException("'" + ip + "' is not an IPv4 address");
            }
            address = address << 8 | Integer.parseInt(part);
        }
        int prefix;
        try {
            prefix = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("prefix '" + text.substring(slash + 1) + "' is not a number");
        }
        return new AddressPool(address, prefix, 0);
    }

    /** A copy of this pool that also never hands out {@code address}. */
    AddressPool excluding(int address) {
        return address == exclude ? this : new AddressPool(first, size, address, cidr);
    }

    private AddressPool(int first, int size, int exclude, String cidr) {
        this.first = first;
        this.size = size;
        this.exclude = exclude;
        this.cidr = cidr;
    }

    /** How many addresses the pool has, including the excluded one if it lies inside. */
    int size() {
        return size;
    }

    boolean contains(int address) {
        return Integer.compareUnsigned(address - first, size) < 0;
    }

    /**
     * The address for {@code peer}: its hashed start, else the next free one.
     *
     * @return the address, or 0 if every address is taken
     */
    int allocate(Endpoint peer, IntPredicate taken) {
        if (size <= 0) {
            return 0;
        }
        int start = (int) Long.remainderUnsigned(mix(((long) peer.address() << 16) ^ peer.port()), size);
        for (int i = 0; i < size; i++) {
            int candidate = first + (int) ((start + (long) i) % size);
            if (candidate != exclude && !taken.test(candidate)) {
                return candidate;
            }
        }
        return 0;
    }

    /** SplitMix64's finalizer: spreads neighbouring (saddr, sport) pairs over the whole pool. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return cidr;
    }
}
