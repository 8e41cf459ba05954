package io.sdt.encap;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.sdt.encap.Packets.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The connection_store: one entry per (saddr, sport), found both ways, gone 5 minutes after the last store. */
class ConnectionStoreTest {

    private final FakeTicker ticker = new FakeTicker();
    private final ConnectionStore store = new ConnectionStore(ticker, 1000);
    private final AddressPool pool = AddressPool.ofInterface(ip(10, 88, 0, 1), ip(255, 255, 255, 0));
    private final Endpoint alice = new Endpoint(ip(192, 168, 1, 10), 12345);
    private final Endpoint bob = new Endpoint(ip(192, 168, 1, 11), 12345);

    @Test
    void storedPeerIsFoundByEndpointAndByGeneratedAddress() {
        ConnectionStore.Entry e = store.store(alice, pool);
        assertNotNull(e);
        assertSame(e, store.lookup(alice));
        assertSame(e, store.lookup(e.generated()));
        assertEquals(alice.socketAddress(), e.socketAddress());
        assertNull(store.lookup(bob));
        assertNull(store.lookup(e.generated() + 1));
    }

    @Test
    void onlyOneEntryPerEndpointAndItKeepsItsAddress() {
        int a = store.store(alice, pool).generated();
        int again = store.store(alice, pool).generated();
        assertEquals(a, again);
        assertEquals(1, store.size());
        int b = store.store(bob, pool).generated();
        assertNotEquals(a, b);
        assertEquals(2, store.size());
        assertEquals(store.size(), store.reserved());
    }

    @Test
    void entryExpiresFiveMinutesAfterTheLastStore() {
        int a = store.store(alice, pool).generated();
        ticker.advance(Duration.ofMinutes(5).minusSeconds(1));
        assertNotNull(store.lookup(alice));
        ticker.advance(Duration.ofSeconds(1));
        assertNull(store.lookup(alice));
        assertNull(store.lookup(a));
        store.cleanUp();
        assertEquals(0, store.size());
        assertEquals(0, store.reserved(), "the address is freed");
    }

    @Test
    void storingAgainRefreshesTheEntry() {
        int a = store.store(alice, pool).generated();
        ticker.advance(Duration.ofMinutes(4));
        store.store(alice, pool);
        ticker.advance(Duration.ofMinutes(4));
        assertNotNull(store.lookup(a), "refreshed at minute 4, so alive at minute 8");
        ticker.advance(Duration.ofMinutes(1));
        assertNull(store.lookup(a));
    }

    @Test
    void aLookupDoesNotRefresh() {
        store.store(alice, pool);
        for (int i = 0; i < 6; i++) {
            ticker.advance(Duration.ofMinutes(1));
            store.lookup(alice);
        }
        assertNull(store.lookup(alice));
    }

    @Test
    void anExpiredPeersAddressCanBeReusedAndTheReturningPeerGetsItBack() {
        int a = store.store(alice, pool).generated();
        ticker.advance(Duration.ofMinutes(6));
        int back = store.store(alice, pool).generated();
        assertEquals(a, back, "deterministic choice: same address when free");
        assertSame(store.lookup(alice), store.lookup(back));
        assertEquals(1, store.reserved());
    }

    @Test
    void fullPoolRefusesNewPeers() {
        AddressPool tiny = AddressPool.ofInterface(ip(10, 0, 0, 1), ip(255, 255, 255, 252)); // .1 ours, .2 free
        assertNotNull(store.store(alice, tiny));
        assertNull(store.store(bob, tiny));
        ticker.advance(Duration.ofMinutes(5));
        assertNotNull(store.store(bob, tiny), "alice expired, so her address is free again");
    }
}
