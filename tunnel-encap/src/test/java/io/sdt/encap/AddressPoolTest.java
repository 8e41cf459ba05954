package io.sdt.encap;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static io.sdt.encap.Packets.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generated addresses: unique, inside the TUN's subnet, never its own, network or broadcast address. */
class AddressPoolTest {

    @Test
    void everyPeerGetsADistinctAddressInsideTheSubnet() {
        int own = ip(10, 88, 1, 1);
        AddressPool pool = AddressPool.ofInterface(own, ip(255, 255, 252, 0)); // /22: 1022 hosts
        Set<Integer> given = new HashSet<>();
        for (int i = 0; i < 1021; i++) {
            // neighbouring peers: same address, consecutive ports, and vice versa
            Endpoint peer = i % 2 == 0 ? new Endpoint(ip(192, 168, 0, 2), 1000 + i)
                    : new Endpoint(ip(172, 16, i >> 8, i & 0xFF), 12345);
            int a = pool.allocate(peer, given::contains);
            assertNotEquals(0, a, "peer " + i);
            assertTrue(given.add(a), "duplicate " + Ipv4.toString(a));
            assertNotEquals(own, a);
            assertNotEquals(ip(10, 88, 0, 0), a, "network address");
            assertNotEquals(ip(10, 88, 3, 255), a, "broadcast address");
            assertTrue(Integer.compareUnsigned(a, ip(10, 88, 0, 1)) >= 0 && Integer.compareUnsigned(a, ip(10, 88, 3, 254)) <= 0);
        }
        assertEquals(0, pool.allocate(new Endpoint(ip(1, 1, 1, 1), 1), given::contains), "pool exhausted");
    }

    @Test
    void smallPoolIsExhaustedAfterItsUsableAddresses() {
        AddressPool pool = AddressPool.ofInterface(ip(10, 0, 0, 1), ip(255, 255, 255, 248)); // /29: .1-.6, .1 is ours
        Set<Integer> given = new HashSet<>();
        for (int port = 1; port <= 5; port++) {
            int a = pool.allocate(new Endpoint(ip(9, 9, 9, 9), port), given::contains);
            assertTrue(given.add(a));
        }
        assertEquals(Set.of(ip(10, 0, 0, 2), ip(10, 0, 0, 3), ip(10, 0, 0, 4), ip(10, 0, 0, 5), ip(10, 0, 0, 6)), given);
        assertEquals(0, pool.allocate(new Endpoint(ip(9, 9, 9, 9), 6), given::contains));
    }

    @Test
    void samePeerGetsTheSameAddressWhenItIsFree() {
        AddressPool pool = AddressPool.parse("100.64.0.0/16");
        Endpoint peer = new Endpoint(ip(203, 0, 113, 5), 40000);
        int a = pool.allocate(peer, x -> false);
        assertEquals(a, pool.allocate(peer, x -> false));
        int b = pool.allocate(peer, x -> x == a);
        assertNotEquals(a, b, "a taken address is skipped");
    }

    @Test
    void slash32HasNothingToGiveWhenItIsTheTunsOwn() {
        AddressPool pool = AddressPool.ofInterface(ip(10, 0, 0, 1), -1);
        assertEquals(0, pool.allocate(new Endpoint(1, 1), x -> false));
        AddressPool p31 = AddressPool.parse("10.0.0.0/31");
        assertEquals(2, p31.size());
        assertTrue(p31.contains(ip(10, 0, 0, 1)));
        assertFalse(p31.contains(ip(10, 0, 0, 2)));
    }

    @Test
    void badPoolsAreRejectedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.0.0.0")).getMessage().contains("A.B.C.D/PREFIX"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.0.0.0/33")).getMessage().contains("/33"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.0.0.0/4")).getMessage().contains("/4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("host/24")).getMessage().contains("not an IPv4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.0.300.0/24")).getMessage().contains("not an IPv4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.0.0.0/x")).getMessage().contains("not a number"));
        assertEquals("10.9.0.0/16", AddressPool.parse("10.9.8.7/16").toString());
    }
}
