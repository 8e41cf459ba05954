package io.sdt.core.tunnel.vpn;

import io.sdt.codec.IpPrefix;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who gets which VPN address: stable per client id, as asked when free, the longest-away reclaimed when full. */
class VpnPoolTest {

    private static byte[] id(int n) {
        byte[] id = new byte[16];
        id[15] = (byte) n;
        return id;
    }

    private final VpnPool pool = new VpnPool(List.of(IpPrefix.parse("10.8.0.0/29"), IpPrefix.parse("fd00:8::/64")));

    @Test
    void theServerHasTheFirstHostAndClientsTheNextFreeOnesWithThePoolsLength() throws Exception {
        assertEquals(List.of(IpPrefix.parse("10.8.0.1/29"), IpPrefix.parse("fd00:8::1/64")), pool.gateways());
        VpnPool.Lease a = pool.lease(id(1), List.of());
        VpnPool.Lease b = pool.lease(id(2), List.of());
        assertEquals(IpPrefix.parse("10.8.0.2/29"), a.v4());
        assertEquals(IpPrefix.parse("fd00:8::2/64"), a.v6());
        assertEquals(IpPrefix.parse("10.8.0.3/29"), b.v4());
    }

    @Test
    void aClientKeepsItsAddressesAcrossReconnects() throws Exception {
        VpnPool.Lease first = pool.lease(id(1), List.of());
        pool.release(first);
        pool.lease(id(2), List.of());
        VpnPool.Lease again = pool.lease(id(1), first.addresses());
        assertEquals(first.addresses(), again.addresses());
        assertEquals(first.addresses(), pool.lease(id(1), List.of()).addresses(), "asking for nothing keeps them too");
    }

    @Test
    void aReconnectAdmittedBeforeTheOldChannelEndedStaysConnectedWhenTheOldOneLeaves() throws Exception {
        VpnPool.Lease[] leases = new VpnPool.Lease[5];
        for (int i = 0; i < 5; i++) {
            leases[i] = pool.lease(id(i), List.of());
        }
        VpnPool.Lease again = pool.lease(id(2), leases[2].addresses()); // the new link's channel
        assertEquals(leases[2].addresses(), again.addresses());
        pool.release(leases[2]); // the old link's channel ends afterwards
        assertThrows(VpnPool.Refused.class, () -> pool.lease(id(9), List.of()),
                "client 2 is still connected: its address is not taken back");
    }

    @Test
    void aWishedForAddressIsGrantedWhenFreeAndRefusedWhenHeldOrOutsideThePool() throws Exception {
        VpnPool.Lease a = pool.lease(id(1), List.of(IpPrefix.parse("10.8.0.5/24")));
        assertEquals(IpPrefix.parse("10.8.0.5/29"), a.v4(), "granted with the pool's prefix length");
        VpnPool.Refused held = assertThrows(VpnPool.Refused.class, () -> pool.lease(id(2), List.of(IpPrefix.parse("10.8.0.5"))));
        assertFalse(held.full);
        assertThrows(VpnPool.Refused.class, () -> pool.lease(id(3), List.of(IpPrefix.parse("10.9.0.5"))));
        assertThrows(VpnPool.Refused.class, () -> pool.lease(id(3), List.of(IpPrefix.parse("10.8.0.1"))), "the server's");
        assertThrows(VpnPool.Refused.class, () -> pool.lease(id(3), List.of(IpPrefix.parse("10.8.0.7"))), "broadcast");
        assertThrows(VpnPool.Refused.class, () -> pool.lease(id(3), List.of(IpPrefix.parse("10.8.0.0"))), "network");
    }

    @Test
    void aFullPoolTakesBackTheAddressOfTheClientAwayLongestAndNeverOneInUse() throws Exception {
        // a /29 has hosts .1 (server) to .6: five clients
        VpnPool.Lease[] leases = new VpnPool.Lease[5];
        for (int i = 0; i < 5; i++) {
            leases[i] = pool.lease(id(i), List.of());
        }
        VpnPool.Refused full = assertThrows(VpnPool.Refused.class, () -> pool.lease(id(9), List.of()));
        assertTrue(full.full, "LIMIT, not DENIED");
        pool.release(leases[3]);
        pool.release(leases[1]);
        VpnPool.Lease newcomer = pool.lease(id(9), List.of());
        assertEquals(leases[3].v4(), newcomer.v4(), "the one away longest");
        VpnPool.Lease back = pool.lease(id(3), List.of());
        assertNotEquals(leases[3].v4(), back.v4(), "client 3 comes back to another address");
        assertEquals(leases[1].v4(), back.v4(), "the next one away longest");
    }
}
