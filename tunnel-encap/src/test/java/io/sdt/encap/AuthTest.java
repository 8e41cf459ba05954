package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.secret.SharedSecret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.sdt.encap.Packets.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The challenge-response exchange: success, wrong secret, replays, impostor server, garbage, timeout. */
@ExtendWith(LeakGuard.class)
class AuthTest {

    private static final SharedSecret SECRET = EncapConfig.secret("correct-horse-battery-staple");
    private static final SharedSecret WRONG = EncapConfig.secret("incorrect-horse-battery-staple");
    private static final InetSocketAddress CLIENT = new InetSocketAddress("192.168.1.10", 12345);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final FakeTicker ticker = new FakeTicker();
    private final ReplayGuard replays = new ReplayGuard(ticker, Duration.ofMinutes(10), 1000);
    private final TunStats stats = new TunStats();
    private final List<Endpoint> admitted = new ArrayList<>();
    private final SecureRandom random = new SecureRandom();

    /** An EmbeddedChannel whose remote address is the client's (saddr, sport). */
    private static EmbeddedChannel channel(InetSocketAddress remote, io.netty.channel.ChannelHandler h) {
        return new EmbeddedChannel(h) {
            @Override
            protected SocketAddress remoteAddress0() {
                return remote;
            }
        };
    }

    private EmbeddedChannel server(SharedSecret secret, SecureRandom rnd) {
        return channel(CLIENT, new ServerAuthHandler(secret, replays, peer -> {
            admitted.add(peer);
            return "10.88.0.7";
        }, stats, rnd, TIMEOUT));
    }

    /** Moves bytes both ways until neither side has anything to send; returns what the client sent. */
    private static List<byte[]> pump(EmbeddedChannel server, EmbeddedChannel client) {
        List<byte[]> fromClient = new ArrayList<>();
        boolean moved = true;
        while (moved) {
            moved = false;
            for (ByteBuf b; (b = server.readOutbound()) != null; moved = true) {
                client.writeInbound(b);
            }
            for (ByteBuf b; (b = client.readOutbound()) != null; moved = true) {
                fromClient.add(bytes(b));
                server.writeInbound(b);
            }
        }
        return fromClient;
    }

    private static Promise<Void> promise() {
        return ImmediateEventExecutor.INSTANCE.newPromise();
    }

    @Test
    void rightSecretIsAcceptedAndThePeerIsStored() {
        Promise<Void> result = promise();
        EmbeddedChannel server = server(SECRET, random);
        EmbeddedChannel client = new EmbeddedChannel(new ClientAuthHandler(SECRET, result, random, TIMEOUT));
        List<byte[]> sent = pump(server, client);
        assertTrue(result.isSuccess(), () -> String.valueOf(result.cause()));
        assertEquals(List.of(Endpoint.of(CLIENT)), admitted);
        assertEquals(1, sent.size());
        assertEquals(AuthWire.RESPONSE_LENGTH, sent.getFirst().length);
        assertFalse(server.isOpen(), "the server ends the connection");
        assertFalse(client.isOpen());
        assertEquals(1, stats.snapshot().get("auth_accepted"));
        assertFalse(server.finishAndReleaseAll());
        client.finishAndReleaseAll();
    }

    @Test
    void theSecretItselfNeverCrossesTheWire() {
        Promise<Void> result = promise();
        EmbeddedChannel server = server(SECRET, random);
        EmbeddedChannel client = new EmbeddedChannel(new ClientAuthHandler(SECRET, result, random, TIMEOUT));
        byte[] response = pump(server, client).getFirst();
        byte[] key = SECRET.key();
        for (int i = 0; i + 8 <= key.length; i++) {
            byte[] window = Arrays.copyOfRange(key, i, i + 8);
            for (int j = 0; j + 8 <= response.length; j++) {
                assertFalse(Arrays.equals(window, Arrays.copyOfRange(response, j, j + 8)));
            }
        }
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    @Test
    void wrongSecretIsRejectedAndNothingIsStored() {
        Promise<Void> result = promise();
        EmbeddedChannel server = server(SECRET, random);
        EmbeddedChannel client = new EmbeddedChannel(new ClientAuthHandler(WRONG, result, random, TIMEOUT));
        pump(server, client);
        assertFalse(result.isSuccess());
        assertTrue(result.cause().getMessage().contains("rejected"), result.cause().getMessage());
        assertTrue(admitted.isEmpty());
        assertFalse(server.isOpen());
        assertEquals(1, stats.snapshot().get("auth_rejected"));
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    @Test
    void aRecordedResponseIsUselessAgainstAFreshChallenge() {
        EmbeddedChannel s1 = server(SECRET, random);
        EmbeddedChannel c1 = new EmbeddedChannel(new ClientAuthHandler(SECRET, promise(), random, TIMEOUT));
        byte[] recorded = pump(s1, c1).getFirst();
        s1.finishAndReleaseAll();
        c1.finishAndReleaseAll();

        EmbeddedChannel s2 = server(SECRET, random);
        ByteBuf challenge = s2.readOutbound();
        challenge.release();
        s2.writeInbound(Unpooled.wrappedBuffer(recorded));
        assertEquals(1, admitted.size(), "only the first, honest exchange was admitted");
        ByteBuf verdict = s2.readOutbound();
        assertEquals(AuthWire.REJECT, AuthWire.type(verdict));
        verdict.release();
        assertFalse(s2.isOpen());
        s2.finishAndReleaseAll();
    }

    @Test
    void aReplayedClientNonceIsRejectedEvenUnderTheSameChallenge() {
        // a server whose random source repeats itself: the challenge is the same twice
        SecureRandom stuck = new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                Arrays.fill(bytes, (byte) 7);
            }
        };
        EmbeddedChannel s1 = server(SECRET, stuck);
        EmbeddedChannel c1 = new EmbeddedChannel(new ClientAuthHandler(SECRET, promise(), random, TIMEOUT));
        byte[] recorded = pump(s1, c1).getFirst();
        s1.finishAndReleaseAll();
        c1.finishAndReleaseAll();

        EmbeddedChannel s2 = server(SECRET, stuck);
        ((ByteBuf) s2.readOutbound()).release();
        s2.writeInbound(Unpooled.wrappedBuffer(recorded));
        ByteBuf verdict = s2.readOutbound();
        assertEquals(AuthWire.REJECT, AuthWire.type(verdict));
        verdict.release();
        assertEquals(1, admitted.size());
        s2.finishAndReleaseAll();
    }

    @Test
    void replayGuardForgetsAfterItsWindowButNotBefore() {
        byte[] nonce = new byte[32];
        assertTrue(replays.firstUse(nonce));
        assertFalse(replays.firstUse(nonce.clone()));
        ticker.advance(Duration.ofMinutes(11));
        assertTrue(replays.firstUse(nonce));
    }

    @Test
    void anImpostorServerThatAcceptsAnythingIsNotBelieved() {
        Promise<Void> result = promise();
        EmbeddedChannel client = new EmbeddedChannel(new ClientAuthHandler(SECRET, result, random, TIMEOUT));
        client.writeInbound(AuthWire.message(client.alloc(), AuthWire.CHALLENGE, new byte[32]));
        ((ByteBuf) client.readOutbound()).release();
        client.writeInbound(AuthWire.message(client.alloc(), AuthWire.ACCEPT, new byte[32]));
        assertFalse(result.isSuccess());
        assertTrue(result.cause().getMessage().contains("proof"), result.cause().getMessage());
        assertFalse(client.isOpen());
        client.finishAndReleaseAll();
    }

    @Test
    void garbageIsRejectedAtOnce() {
        EmbeddedChannel server = server(SECRET, random);
        ((ByteBuf) server.readOutbound()).release();
        server.writeInbound(Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n".getBytes()));
        ByteBuf verdict = server.readOutbound();
        assertEquals(AuthWire.REJECT, AuthWire.type(verdict));
        verdict.release();
        assertFalse(server.isOpen());
        assertTrue(admitted.isEmpty());
        server.finishAndReleaseAll();
    }

    @Test
    void splitAtEveryByteStillWorks() {
        Promise<Void> result = promise();
        EmbeddedChannel server = server(SECRET, random);
        EmbeddedChannel client = new EmbeddedChannel(new ClientAuthHandler(SECRET, result, random, TIMEOUT));
        ByteBuf challenge = server.readOutbound();
        while (challenge.isReadable()) {
            client.writeInbound(challenge.readRetainedSlice(1));
        }
        challenge.release();
        ByteBuf response = client.readOutbound();
        while (response.isReadable()) {
            server.writeInbound(response.readRetainedSlice(1));
        }
        response.release();
        ByteBuf verdict = server.readOutbound();
        client.writeInbound(verdict);
        assertTrue(result.isSuccess());
        assertEquals(1, admitted.size());
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    @Test
    void silentClientsTimeOut() {
        EmbeddedChannel server = server(SECRET, random);
        ((ByteBuf) server.readOutbound()).release();
        server.advanceTimeBy(6, TimeUnit.SECONDS);
        server.runScheduledPendingTasks();
        ByteBuf verdict = server.readOutbound();
        assertEquals(AuthWire.REJECT, AuthWire.type(verdict));
        verdict.release();
        assertFalse(server.isOpen());

        Promise<Void> result = promise();
        EmbeddedChannel client = new EmbeddedChannel(new ClientAuthHandler(SECRET, result, random, TIMEOUT));
        client.advanceTimeBy(6, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        assertTrue(result.isDone() && !result.isSuccess());
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    @Test
    void secretsPrintAsStars() {
        assertEquals("***", SECRET.toString());
        assertArrayEquals(EncapConfig.secret("  correct-horse-battery-staple\n").key(), SECRET.key());
    }
}
