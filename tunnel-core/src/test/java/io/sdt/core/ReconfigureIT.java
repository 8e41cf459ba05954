package io.sdt.core;

import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.GatedTransfer;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Loopback;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A running client changes its tunnels (a configuration reload) and drains on shutdown, through
 * real nodes on loopback: unchanged tunnels keep their channels, removed ones stop listening on
 * both nodes, added ones work at once.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReconfigureIT {

    private static final int HALF = 8 << 20;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private Future<Boolean> gatedTransfer(InetSocketAddress at, long seed, CountDownLatch halfway, CountDownLatch gate) {
        return GatedTransfer.start(threads, at, HALF, seed, halfway, gate);
    }

    private static void assertRefused(InetSocketAddress at) {
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(at, 2000);
            }
        }, at + " should refuse connections");
    }

    private static boolean refuses(InetSocketAddress at) {
        try (Socket s = new Socket()) {
            s.connect(at, 2000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static TunnelSpec spec(Direction d, String text) {
        return TunnelSpecParser.parse(d, text);
    }

    @Test
    void transfersThroughKeptTunnelsSurviveAReloadThatAddsAndRemovesTunnels() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            int p = echo.port();
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + p).allowBind("127.0.0.1:*"));
            TunnelSpec keptLocal = spec(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + p);
            TunnelSpec keptRemote = spec(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + p);
            TunnelSpec goneLocal = spec(Direction.LOCAL, "0:127.0.0.1:" + p);
            TunnelSpec goneRemote = spec(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + p + ",max=5");
            SdtClient client = nodes.client(server, b -> b.forward(keptLocal).forward(goneLocal).forward(keptRemote)
                    .forward(goneRemote));
            List<Tunnel> before = client.tunnels();
            InetSocketAddress a = before.get(0).boundAddress();
            InetSocketAddress c = before.get(1).boundAddress();
            InetSocketAddress ra = before.get(2).awaitBound(Duration.ofSeconds(10));
            InetSocketAddress rc = before.get(3).awaitBound(Duration.ofSeconds(10));
            assertNotNull(ra, "kept remote tunnel bound");
            assertNotNull(rc, "removed remote tunnel bound before the reload");

            CountDownLatch halfway = new CountDownLatch(2);
            CountDownLatch reloaded = new CountDownLatch(1);
            Future<Boolean> viaLocal = gatedTransfer(a, 1, halfway, reloaded);
            Future<Boolean> viaRemote = gatedTransfer(ra, 2, halfway, reloaded);
            assertTrue(halfway.await(30, TimeUnit.SECONDS), "both transfers are half way");
            assertEquals(1, before.get(0).activeChannels(), "one channel in flight through the kept local tunnel");

            TunnelSpec addedLocal = spec(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + p + ",max=9");
            TunnelSpec addedRemote = spec(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + p + ",max=7");
            TunnelChange change = client.reconfigure(List.of(addedLocal, keptLocal, keptRemote, addedRemote),
                    Policy.denyAll(), null);

            assertEquals(List.of(before.get(0), before.get(2)), change.kept(), "unchanged tunnels are the same objects");
            assertEquals(List.of(before.get(1), before.get(3)), change.removed());
            assertEquals(List.of(addedLocal, addedRemote), change.added().stream().map(Tunnel::spec).toList());
            List<Tunnel> after = client.tunnels();
            assertEquals(List.of(addedLocal, keptLocal, keptRemote, addedRemote), after.stream().map(Tunnel::spec).toList(),
                    "tunnels in the new configuration's order");
            assertSame(before.get(0), after.get(1));

            assertRefused(c);
            Await.until("the server closed the removed remote listener", Duration.ofSeconds(10), () -> refuses(rc));
            Loopback.echo(after.get(0).boundAddress(), 256 * 1024, 3);
            InetSocketAddress rb = after.get(3).awaitBound(Duration.ofSeconds(10));
            assertNotNull(rb, "added remote tunnel bound: " + after.get(3).lastError());
            Loopback.echo(rb, 256 * 1024, 4);

            reloaded.countDown();
            assertTrue(viaLocal.get(60, TimeUnit.SECONDS), "transfer through the kept local tunnel");
            assertTrue(viaRemote.get(60, TimeUnit.SECONDS), "transfer through the kept remote tunnel");
            assertEquals(0, server.stats().protocolErrors());
            assertEquals(0, client.stats().protocolErrors());
            assertEquals(1, server.linkCount(), "the link never dropped");
            assertEquals(1, client.stats().linksEstablished(), "no reconnect");
        }
    }

    @Test
    void aChangedRemoteTunnelRebindsItsFixedPortAfterTheOldListenerCloses() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()).allowBind("127.0.0.1:*"));
            TunnelSpec old = spec(Direction.REMOTE, "127.0.0.1:" + port + ":127.0.0.1:" + echo.port() + ",max=1");
            SdtClient client = nodes.client(server, b -> b.forward(old));
            assertNotNull(client.tunnels().getFirst().awaitBound(Duration.ofSeconds(10)));
            for (int round = 2; round <= 6; round++) {
                TunnelSpec next = spec(Direction.REMOTE, "127.0.0.1:" + port + ":127.0.0.1:" + echo.port() + ",max=" + round);
                TunnelChange change = client.reconfigure(List.of(next), Policy.denyAll(), null);
                assertEquals(1, change.added().size());
                Tunnel t = client.tunnels().getFirst();
                InetSocketAddress bound = t.awaitBound(Duration.ofSeconds(10));
                assertNotNull(bound, "round " + round + ": " + t.lastError());
                assertEquals(port, bound.getPort());
                Loopback.echo(bound, 256 * 1024, round);
            }
            assertEquals(0, server.stats().protocolErrors());
        }
    }

    @Test
    void aChangeOfTheSoleTunnelModeIsRefusedAndChangesNothing() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            TunnelSpec sole = spec(Direction.LOCAL, "0:127.0.0.1:9/udp,peer=127.0.0.1:5000");
            SdtClient client = nodes.client(server, b -> b.forward(sole));
            List<Tunnel> before = client.tunnels();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.reconfigure(
                    List.of(sole, spec(Direction.LOCAL, "0:127.0.0.1:" + echo.port())), Policy.denyAll(), null));
            assertTrue(e.getMessage().contains("restart"), e.getMessage());
            assertEquals(before, client.tunnels());
            assertEquals(1, client.tunnels().size());
            assertEquals(before.getFirst().boundAddress(), client.tunnels().getFirst().boundAddress(), "still listening");
        }
    }

    @Test
    void serverPolicyChangesApplyToNewChannelsOnly() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            InetSocketAddress a = client.tunnels().getFirst().boundAddress();
            CountDownLatch halfway = new CountDownLatch(1);
            CountDownLatch changed = new CountDownLatch(1);
            Future<Boolean> open = gatedTransfer(a, 5, halfway, changed);
            assertTrue(halfway.await(30, TimeUnit.SECONDS));

            server.updatePolicy(Policy.of(List.of(PolicyRule.parse("test", "10.0.0.0/8:*"))), Policy.denyAll());
            long denied = server.stats().opensDenied();
            try (Socket s = new Socket()) {
                s.connect(a, 5000);
                s.setSoTimeout(10_000);
                assertEquals(-1, s.getInputStream().read(), "a new channel is denied and its connection closed");
            }
            assertEquals(denied + 1, server.stats().opensDenied());

            changed.countDown();
            assertTrue(open.get(60, TimeUnit.SECONDS), "the channel opened before the change runs to its end");
        }
    }

    @Test
    void drainLetsAnOpenTransferFinishAndRefusesNewConnections() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            InetSocketAddress a = client.tunnels().getFirst().boundAddress();
            CountDownLatch halfway = new CountDownLatch(1);
            CountDownLatch draining = new CountDownLatch(1);
            Future<Boolean> open = gatedTransfer(a, 6, halfway, draining);
            assertTrue(halfway.await(30, TimeUnit.SECONDS));

            Future<Boolean> drained = threads.submit(() -> client.drain(Duration.ofSeconds(30)));
            Await.until("the listener is closed", Duration.ofSeconds(10), () -> refuses(a));
            assertFalse(drained.isDone(), "drain waits for the open channel");
            draining.countDown();
            assertTrue(open.get(60, TimeUnit.SECONDS), "the in-flight transfer completes during the drain");
            assertTrue(drained.get(30, TimeUnit.SECONDS), "drain ends once no channel is open");
        }
    }

    @Test
    void drainGivesUpAtItsTimeout() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            try (Socket stuck = new Socket()) {
                stuck.connect(client.tunnels().getFirst().boundAddress(), 5000);
                Await.until("channel open", Duration.ofSeconds(10), () -> server.stats().channelsOpen() == 1);
                assertFalse(server.drain(Duration.ofMillis(300)), "a channel that never ends outlives the drain");
                assertEquals(1, server.stats().channelsOpen());
            }
        }
    }
}
