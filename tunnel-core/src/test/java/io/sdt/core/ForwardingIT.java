package io.sdt.core;

import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.LinkSockets;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** TCP local and remote forwarding through real nodes on loopback, over real TLS. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ForwardingIT {

    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    /** Sends {@code size} random bytes to {@code at} and reads the echo concurrently; asserts SHA-256. */
    private void echoRoundTrip(InetSocketAddress at, long size, long seed) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(60_000);
            Future<byte[]> sent = threads.submit(() -> {
                byte[] d = Payloads.write(s.getOutputStream(), size, seed);
                s.shutdownOutput();
                return d;
            });
            long[] count = new long[1];
            byte[] got = Payloads.readAll(s.getInputStream(), count);
            assertEquals(size, count[0], "echoed byte count");
            assertArrayEquals(sent.get(60, TimeUnit.SECONDS), got, "SHA-256 of the echo");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void sixtyFourMiBThroughLocalAndRemoteBothDirectionsAtOnce(Transport transport) throws Exception {
        assumeTrue(transport.isAvailable(), () -> transport.id() + " unavailable: " + transport.unavailabilityCause());
        try (Nodes nodes = new Nodes(transport); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()).allowBind("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            InetSocketAddress local = client.tunnels().get(0).boundAddress();
            InetSocketAddress remote = client.tunnels().get(1).awaitBound(Duration.ofSeconds(10));
            assertNotNull(remote, "remote forward bound");
            long size = 64L << 20;
            Future<?> viaLocal = threads.submit(() -> {
                echoRoundTrip(local, size, 1);
                return null;
            });
            Future<?> viaRemote = threads.submit(() -> {
                echoRoundTrip(remote, size, 2);
                return null;
            });
            viaLocal.get(100, TimeUnit.SECONDS);
            viaRemote.get(100, TimeUnit.SECONDS);
            assertEquals(2 * size, client.stats().bytesToLink(), "client sent both payloads up the link");
        }
    }

    @Test
    void twoHundredConcurrentConnectionsEachIntact() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            InetSocketAddress local = client.tunnels().get(0).boundAddress();
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                all.add(threads.submit(() -> {
                    echoRoundTrip(local, 16_384 + 997L * n, 1000 + n);
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(200, echo.accepted());
            assertEquals(200, server.stats().channelsOpened());
            Await.until("all channels closed", Duration.ofSeconds(10),
                    () -> server.stats().channelsOpen() == 0 && client.stats().channelsOpen() == 0);
        }
    }

    @Test
    void halfCloseStillDeliversTheFullReply() throws Exception {
        long replySize = 3L << 20;
        // reads to EOF, then replies with the digest of what it read followed by 3 MiB
        try (Nodes nodes = new Nodes(); Targets target = new Targets(s -> {
            long[] n = new long[1];
            byte[] digest = Payloads.readAll(s.getInputStream(), n);
            s.getOutputStream().write(digest);
            Payloads.write(s.getOutputStream(), replySize, 7);
            s.shutdownOutput();
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.port()));
            try (Socket s = new Socket()) {
                s.connect(client.tunnels().get(0).boundAddress(), 5000);
                s.setSoTimeout(30_000);
                byte[] sent = Payloads.write(s.getOutputStream(), 1 << 20, 3);
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                byte[] digest = in.readNBytes(32);
                assertArrayEquals(sent, digest, "target saw exactly what was sent before the FIN");
                long[] n = new long[1];
                byte[] reply = Payloads.readAll(in, n);
                assertEquals(replySize, n[0]);
                assertArrayEquals(Payloads.digestOf(replySize, 7), reply);
            }
        }
    }

    @Test
    void refusedTargetClosesOnlyThatConnection() throws Exception {
        int deadPort;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = probe.getLocalPort();
        }
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + deadPort)
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            // a long transfer on another channel keeps going while the refused one fails
            Future<?> other = threads.submit(() -> {
                echoRoundTrip(client.tunnels().get(1).boundAddress(), 8L << 20, 5);
                return null;
            });
            for (int i = 0; i < 3; i++) {
                try (Socket s = new Socket()) {
                    s.connect(client.tunnels().get(0).boundAddress(), 5000);
                    s.setSoTimeout(5000);
                    assertEquals(-1, s.getInputStream().read(), "refused target: connection closed");
                }
            }
            other.get(60, TimeUnit.SECONDS);
            assertTrue(client.isUp(), "link still up");
            assertTrue(client.tunnels().get(0).lastError().contains("failed"), client.tunnels().get(0).lastError());
            assertEquals(3, server.stats().opensFailed());
            echoRoundTrip(client.tunnels().get(1).boundAddress(), 1 << 16, 6);
        }
    }

    @Test
    void slowReaderStallsOnlyItsOwnChannelAndBuffersStayWithinTheWindow() throws Exception {
        int window = 1 << 20;
        long slack = 512 * 1024;
        long size = 256L << 20;
        CountDownLatch resume = new CountDownLatch(1);
        long[] sinkCount = new long[1];
        byte[][] sinkDigest = new byte[1][];
        CountDownLatch sinkDone = new CountDownLatch(1);
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo(); Targets sink = new Targets(s -> {
            try {
                resume.await();
            } catch (InterruptedException e) {
                return;
            }
            sinkDigest[0] = Payloads.readAll(s.getInputStream(), sinkCount);
            sinkDone.countDown();
        })) {
            LinkSettings settings = LinkSettings.defaults().withWindow(window);
            SdtServer server = nodes.server(b -> b.settings(settings).allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.settings(settings)
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + sink.port())
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            try (Socket slow = new Socket()) {
                slow.connect(client.tunnels().get(0).boundAddress(), 5000);
                CompletableFuture<byte[]> pushed = CompletableFuture.supplyAsync(() -> {
                    try {
                        byte[] d = Payloads.write(slow.getOutputStream(), size, 11);
                        slow.shutdownOutput();
                        return d;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                // the stalled channel has used up its window (plus what the kernel's socket buffers
                // took): the client's count stops moving for 300 ms
                long[] last = {-1, System.nanoTime()};
                Await.until("sender stalls on the window", Duration.ofSeconds(30), () -> {
                    long now = client.stats().bytesToLink();
                    if (now != last[0]) {
                        last[0] = now;
                        last[1] = System.nanoTime();
                        return false;
                    }
                    return now >= window && System.nanoTime() - last[1] > 300_000_000L;
                });
                long stalledAt = client.stats().bytesToLink();
                assertTrue(stalledAt < size / 4, "the sender is held back long before 256 MiB: " + stalledAt);
                // other channels keep flowing meanwhile: 20 round trips of 1 MiB
                for (int i = 0; i < 20; i++) {
                    echoRoundTrip(client.tunnels().get(1).boundAddress(), 1 << 20, 100 + i);
                }
                long others = 20L << 20;
                assertTrue(client.stats().bytesToLink() - others <= stalledAt + 256 * 1024,
                        "the stalled channel did not move while its receiver did not read");
                assertTrue(!pushed.isDone(), "the sender is still blocked");
                assertTrue(client.stats().windowStalls() > 0, "the ingress counted its stall on the window");
                assertTrue(client.stats().linkQueuedBytes() <= LinkSockets.CHANNEL_QUEUE + 64 * 1024,
                        "nothing piles up in the link's scheduler beyond one channel queue: "
                                + client.stats().linkQueuedBytes());
                // the claim under test: while the reader stalls, each node holds at most the windows
                assertTrue(server.stats().bufferedBytesMax() <= 2L * window + slack,
                        "server buffered at most the windows while stalled: " + server.stats().bufferedBytesMax());
                assertTrue(client.stats().bufferedBytesMax() <= 2L * window + slack,
                        "client buffered at most the windows while stalled: " + client.stats().bufferedBytesMax());
                resume.countDown();
                byte[] sent = pushed.get(90, TimeUnit.SECONDS);
                assertTrue(sinkDone.await(90, TimeUnit.SECONDS));
                assertEquals(size, sinkCount[0]);
                assertArrayEquals(sent, sinkDigest[0]);
            }
            // Afterwards one more socket receive buffer may have been held: when the sender's FIN
            // arrives (EPOLLRDHUP), epoll drains the socket whatever AUTO_READ says, and a channel
            // that is out of credit at that moment holds those bytes until credit returns.
            long rcvbufMax;
            try (var in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/tcp_rmem"))) {
                // /proc files report size 0, so read them as a stream
                rcvbufMax = Long.parseLong(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
                        .strip().split("\\s+")[2]);
            }
            assertTrue(server.stats().bufferedBytesMax() <= 2L * window + slack + rcvbufMax,
                    "server buffered at most the windows and one receive buffer: " + server.stats().bufferedBytesMax());
            assertTrue(client.stats().bufferedBytesMax() <= 2L * window + slack + rcvbufMax,
                    "client buffered at most the windows and one receive buffer: " + client.stats().bufferedBytesMax());
        }
    }

    @Test
    void aWindowThatGrewStillBoundsWhatAStalledReaderHolds() throws Exception {
        long fast = 64L << 20;
        long size = 256L << 20;
        CountDownLatch resume = new CountDownLatch(1);
        long[] sinkCount = new long[1];
        CountDownLatch sinkDone = new CountDownLatch(1);
        try (Nodes nodes = new Nodes(); Targets sink = new Targets(s -> {
            try {
                var in = s.getInputStream();
                byte[] buf = new byte[64 * 1024];
                long n = 0;
                while (n < fast) { // reads quickly at first: the window grows
                    int r = in.read(buf);
                    if (r < 0) {
                        return;
                    }
                    n += r;
                }
                resume.await(); // then stalls
                while (true) {
                    int r = in.read(buf);
                    if (r < 0) {
                        break;
                    }
                    n += r;
                }
                sinkCount[0] = n;
                sinkDone.countDown();
            } catch (Exception e) {
                // the test fails on the count
            }
        })) {
            LinkSettings settings = LinkSettings.defaults().withWindows(256 * 1024, 16 << 20, 1L << 30);
            SdtServer server = nodes.server(b -> b.settings(settings).allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.settings(settings)
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + sink.port()));
            try (Socket producer = new Socket()) {
                producer.connect(client.tunnels().get(0).boundAddress(), 5000);
                CompletableFuture<byte[]> pushed = CompletableFuture.supplyAsync(() -> {
                    try {
                        byte[] d = Payloads.write(producer.getOutputStream(), size, 12);
                        producer.shutdownOutput();
                        return d;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                long[] last = {-1, System.nanoTime()};
                Await.until("sender stalls on the window", Duration.ofSeconds(60), () -> {
                    long now = client.stats().bytesToLink();
                    if (now != last[0]) {
                        last[0] = now;
                        last[1] = System.nanoTime();
                        return false;
                    }
                    return now >= fast && System.nanoTime() - last[1] > 300_000_000L;
                });
                assertTrue(server.stats().windowGrowths() > 0, "the egress window grew while the reader was fast");
                // the one channel's largest window on the server; a doubling that did not pay is undone, but
                // credit already granted stands, so what is held is bounded by the largest window, not the last
                long largest = server.stats().windowBytesMax();
                assertTrue(largest > 256 * 1024 && largest <= 16 << 20, "a grown window: " + largest);
                assertTrue(server.stats().bufferedBytes() <= largest,
                        "the server holds at most the channel's largest window: " + server.stats().bufferedBytes()
                                + " of " + largest);
                assertTrue(server.stats().bufferedBytesMax() <= largest,
                        "and never held more: " + server.stats().bufferedBytesMax() + " of " + largest);
                assertTrue(!pushed.isDone(), "the sender is still blocked");
                resume.countDown();
                pushed.get(90, TimeUnit.SECONDS);
                assertTrue(sinkDone.await(90, TimeUnit.SECONDS));
                assertEquals(size, sinkCount[0]);
            }
            Await.until("every window given back", Duration.ofSeconds(10),
                    () -> server.stats().windowBytes() == 0 && client.stats().windowBytes() == 0);
        }
    }

    @Test
    void clientReconnectsAfterServerRestartAndForwardsWorkAgain() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer first = nodes.server(b -> b.allowTarget("127.0.0.1:*").allowBind("127.0.0.1:*"));
            int port = first.address().getPort();
            SdtClient client = nodes.client(first, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            Tunnel remote = client.tunnels().get(1);
            assertNotNull(remote.awaitBound(Duration.ofSeconds(10)));
            echoRoundTrip(client.tunnels().get(0).boundAddress(), 1 << 20, 1);
            first.close();
            Await.until("client notices the restart", Duration.ofSeconds(10), () -> !client.isUp());
            SdtServer second = nodes.server(b -> b.listen("127.0.0.1", port).allowTarget("127.0.0.1:*")
                    .allowBind("127.0.0.1:*"));
            assertTrue(client.awaitUp(Duration.ofSeconds(15)), "client reconnected");
            InetSocketAddress again = remote.awaitBound(Duration.ofSeconds(10));
            assertNotNull(again, "remote forward re-established");
            echoRoundTrip(client.tunnels().get(0).boundAddress(), 1 << 20, 2);
            echoRoundTrip(again, 1 << 20, 3);
            assertEquals(1, second.stats().linksEstablished());
        }
    }

    @Test
    void maxChannelsRefusesConnectionsBeyondTheLimit() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (Nodes nodes = new Nodes(); Targets hold = new Targets(s -> {
            s.getOutputStream().write(1);
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // closing
            }
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + hold.port() + ",max=2"));
            Tunnel t = client.tunnels().get(0);
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    Socket s = new Socket();
                    held.add(s);
                    s.connect(t.boundAddress(), 5000);
                    s.setSoTimeout(5000);
                    assertEquals(1, s.getInputStream().read(), "channel " + i + " open");
                }
                try (Socket third = new Socket()) {
                    third.connect(t.boundAddress(), 5000);
                    third.setSoTimeout(5000);
                    assertEquals(-1, third.getInputStream().read(), "third connection refused");
                }
                assertEquals(1, t.channelsRejected());
                assertEquals(2, hold.accepted());
            } finally {
                release.countDown();
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }
}
