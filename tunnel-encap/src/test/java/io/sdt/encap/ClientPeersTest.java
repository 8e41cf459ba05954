package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.sdt.encap.Packets.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The client: authenticate before sending, bounded wait queue, back-off after failure, re-auth before expiry. */
@ExtendWith(LeakGuard.class)
class ClientPeersTest {

    private static final int SERVER = ip(10, 77, 0, 1);
    private static final int PORT = 12345;

    private final FakeTicker ticker = new FakeTicker();
    private final TunStats stats = new TunStats();
    private final List<Promise<Void>> auths = new ArrayList<>();
    private final List<InetSocketAddress> authTargets = new ArrayList<>();
    private final EmbeddedChannel udp = new EmbeddedChannel();
    private final ClientPeers peers;

    ClientPeersTest() {
        UdpOut out = new UdpOut(stats);
        out.channel(udp);
        peers = new ClientPeers(PORT, server -> {
            authTargets.add(server);
            Promise<Void> p = ImmediateEventExecutor.INSTANCE.newPromise();
            auths.add(p);
            return p;
        }, out, stats, ticker);
    }

    @AfterEach
    void close() {
        peers.close();
        udp.finishAndReleaseAll();
    }

    private ByteBuf segment(int marker) {
        ByteBuf s = Packets.tcpSegment(ip(10, 66, 0, 2), SERVER, new byte[] {(byte) marker});
        return s;
    }

    /** Markers of the datagrams sent so far, asserting each went to (server, PORT). */
    private List<Integer> sent() {
        udp.flush();
        List<Integer> markers = new ArrayList<>();
        for (DatagramPacket p; (p = udp.readOutbound()) != null; ) {
            assertEquals(new InetSocketAddress(Ipv4.toAddress(SERVER), PORT), p.recipient());
            markers.add((int) p.content().getByte(p.content().writerIndex() - 1));
            p.release();
        }
        return markers;
    }

    @Test
    void segmentsWaitForAuthenticationThenGoInOrder() {
        peers.fromTun(SERVER, segment(1));
        peers.fromTun(SERVER, segment(2));
        assertEquals(1, auths.size(), "one exchange, however many segments");
        assertEquals(new InetSocketAddress(Ipv4.toAddress(SERVER), PORT), authTargets.getFirst());
        assertEquals(List.of(), sent());
        auths.getFirst().setSuccess(null);
        assertEquals(List.of(1, 2), sent());
        peers.fromTun(SERVER, segment(3));
        assertEquals(List.of(3), sent());
        assertEquals(1, auths.size());
    }

    @Test
    void theWaitQueueIsBounded() {
        for (int i = 0; i < ClientPeers.QUEUE_LIMIT + 5; i++) {
            peers.fromTun(SERVER, segment(i));
        }
        assertEquals(5, stats.discarded(Discard.AUTH_QUEUE_FULL));
        auths.getFirst().setSuccess(null);
        assertEquals(ClientPeers.QUEUE_LIMIT, sent().size());
    }

    @Test
    void failureDiscardsAndBacksOff() {
        peers.fromTun(SERVER, segment(1));
        auths.getFirst().setFailure(new ClientAuthHandler.AuthFailure("rejected by the server"));
        assertEquals(1, stats.discarded(Discard.AUTH_FAILED), "the queued segment");
        peers.fromTun(SERVER, segment(2));
        assertEquals(2, stats.discarded(Discard.AUTH_FAILED), "within the back-off");
        assertEquals(1, auths.size());
        ticker.advance(Duration.ofMillis(1001));
        peers.fromTun(SERVER, segment(3));
        assertEquals(2, auths.size(), "retried after 1 s");
        auths.get(1).setFailure(new ClientAuthHandler.AuthFailure("again"));
        ticker.advance(Duration.ofMillis(1001));
        peers.fromTun(SERVER, segment(4));
        assertEquals(2, auths.size(), "second back-off is 2 s");
        ticker.advance(Duration.ofMillis(1000));
        peers.fromTun(SERVER, segment(5));
        assertEquals(3, auths.size());
        assertEquals(List.of(), sent());
    }

    @Test
    void reauthenticatesBeforeTheServersEntryExpires() {
        peers.fromTun(SERVER, segment(1));
        auths.getFirst().setSuccess(null);
        ticker.advance(Duration.ofMinutes(3));
        peers.fromTun(SERVER, segment(2));
        assertEquals(1, auths.size());
        ticker.advance(Duration.ofMinutes(1));
        peers.fromTun(SERVER, segment(3));
        assertEquals(2, auths.size(), "after 4 minutes");
        assertEquals(List.of(1, 2, 3), sent(), "traffic keeps flowing during re-authentication");
        ticker.advance(Duration.ofSeconds(30));
        peers.tick();
        assertEquals(2, auths.size(), "no second exchange while one is running");
        auths.get(1).setSuccess(null);
        ticker.advance(Duration.ofMinutes(4));
        peers.tick();
        assertEquals(3, auths.size(), "the periodic tick re-authenticates too");
    }

    @Test
    void datagramsAreAcceptedOnlyFromAnAuthenticatedServerAtTheEndpointPort() {
        InetSocketAddress server = new InetSocketAddress(Ipv4.toAddress(SERVER), PORT);
        assertEquals(0, peers.sourceFor(server), "not authenticated yet");
        peers.fromTun(SERVER, segment(1));
        assertEquals(0, peers.sourceFor(server), "still authenticating");
        auths.getFirst().setSuccess(null);
        sent();
        assertEquals(SERVER, peers.sourceFor(server));
        assertEquals(0, peers.sourceFor(new InetSocketAddress(Ipv4.toAddress(SERVER), PORT + 1)));
        assertEquals(0, peers.sourceFor(new InetSocketAddress("10.77.0.9", PORT)));
        ticker.advance(Duration.ofMinutes(5));
        assertEquals(0, peers.sourceFor(server), "authentication older than 5 minutes");
    }

    @Test
    void closeReleasesQueuedSegments() {
        ByteBuf s = segment(1);
        peers.fromTun(SERVER, s);
        peers.close();
        assertEquals(0, s.refCnt());
        assertEquals(1, stats.discarded(Discard.DESTINATION_EVICTED));
        assertNull(udp.readOutbound());
    }
}
