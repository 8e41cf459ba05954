package io.sdt.core.link;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WaitingRoomTest {

    /** A channel that says it comes from {@code 127.0.0.<host>}. */
    private static Channel from(int host) {
        InetSocketAddress remote = new InetSocketAddress("127.0.0." + host, 40_000 + host);
        return new EmbeddedChannel() {
            @Override
            public SocketAddress remoteAddress() {
                return remote;
            }
        };
    }

    private static WaitingRoom.Entry.Admitted admitted(WaitingRoom.Entry e) {
        return assertInstanceOf(WaitingRoom.Entry.Admitted.class, e);
    }

    @Test
    void oneSourceMayHoldOnlyItsShareAndOthersStillGetIn() {
        WaitingRoom room = new WaitingRoom(8, 2);
        admitted(room.enter(from(2)));
        admitted(room.enter(from(2)));
        WaitingRoom.Entry third = room.enter(from(2));
        assertTrue(assertInstanceOf(WaitingRoom.Entry.Refused.class, third).reason()
                .contains("2 connections from 127.0.0.2 are already waiting"));
        assertNull(admitted(room.enter(from(1))).dropped());
        assertEquals(3, room.size());
    }

    @Test
    void aFullRoomDropsItsOldestSilentConnectionNotTheNewcomerNorOneThatSpoke() {
        WaitingRoom room = new WaitingRoom(3, 3);
        Channel a = from(2);
        Channel b = from(3);
        Channel c = from(4);
        admitted(room.enter(a)).ticket().spoke(); // a client in its TLS handshake
        admitted(room.enter(b));
        admitted(room.enter(c));
        WaitingRoom.Entry.Admitted d = admitted(room.enter(from(5)));
        assertSame(b, d.dropped(), "the oldest that sent nothing");
        assertSame(c, admitted(room.enter(from(6))).dropped());
        assertEquals(3, room.size());
    }

    @Test
    void whenEveryoneSpokeTheBusiestSourceGivesWay() {
        WaitingRoom room = new WaitingRoom(4, 4);
        Channel lone = from(1);
        admitted(room.enter(lone)).ticket().spoke();
        Channel first = from(9);
        admitted(room.enter(first)).ticket().spoke();
        admitted(room.enter(from(9))).ticket().spoke();
        admitted(room.enter(from(9))).ticket().spoke();
        assertSame(first, admitted(room.enter(from(7))).dropped(), "the oldest of the source with three waiting");
    }

    @Test
    void leavingFreesThePlaceAndIsIdempotent() {
        WaitingRoom room = new WaitingRoom(2, 1);
        WaitingRoom.Ticket t = admitted(room.enter(from(2))).ticket();
        t.leave();
        t.leave();
        assertEquals(0, room.size());
        admitted(room.enter(from(2)));
        assertNull(admitted(room.enter(from(3))).dropped());
        assertEquals(2, room.size());
    }
}
