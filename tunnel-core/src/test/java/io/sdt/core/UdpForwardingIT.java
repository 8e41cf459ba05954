package io.sdt.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** UDP forwarding through real nodes on loopback: per-source channels, expiry, cap, sizes, policy. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UdpForwardingIT {

    private static final InetAddress V4 = InetAddress.getLoopbackAddress();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    /** Sends {@code request} from {@code s} to {@code at} and waits for the matching reply, retrying on loss. */
    private static byte[] exchange(DatagramSocket s, InetSocketAddress at, byte[] request, byte[] expected) throws Exception {
        byte[] buf = new byte[65_535];
        // UDP may drop under load (by design: it never waits), and a VM with heavy CPU steal can
        // stall a node for a second or more: retry for up to 8 x 500 ms before calling it lost
        for (int attempt = 0; attempt < 8; attempt++) {
            s.send(new DatagramPacket(request, request.length, at));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < deadline) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                assertEquals(at, p.getSocketAddress(), "the reply comes from the address the client sent to");
                byte[] got = Arrays.copyOf(p.getData(), p.getLength());
                if (Arrays.equals(expected, got)) {
                    return got;
                }
                // a late reply to an earlier attempt of the same request is fine; anything else is cross-talk
                assertTrue(new String(got, StandardCharsets.UTF_8).startsWith(
                        new String(expected, StandardCharsets.UTF_8).split("#")[0] + "#"), "cross-talk: " + new String(got));
            }
        }
        throw new AssertionError("no reply to " + new String(request, StandardCharsets.UTF_8));
    }

    private void dnsLike(InetSocketAddress at, int sources, int requests) throws Exception {
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < sources; i++) {
            int src = i;
            all.add(threads.submit(() -> {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0))) {
                    s.setSoTimeout(500);
                    for (int q = 0; q < requests; q++) {
                        byte[] req = ("q" + src + "#" + q).getBytes(StandardCharsets.UTF_8);
                        byte[] want = ("r" + src + "#" + q).getBytes(StandardCharsets.UTF_8);
                        exchange(s, at, req, want);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : all) {
            f.get(90, TimeUnit.SECONDS);
        }
    }

    private static UdpTarget dnsServer() throws Exception {
        return new UdpTarget(V4, b -> {
            b[0] = 'r';
            return b;
        });
    }

    @Test
    void twoHundredSourcesThroughLocalForwardEachGetTheirOwnReplies() throws Exception {
        try (Nodes nodes = new Nodes(); UdpTarget dns = dnsServer()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + dns.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + dns.port() + "/udp"));
            Tunnel t = client.tunnels().get(0);
            dnsLike(t.boundAddress(), 200, 50);
            assertEquals(200, t.tupleCount(), "one channel per source tuple");
            assertEquals(200, server.stats().channelsOpened(), "one egress socket per source tuple");
            assertTrue(dns.received() >= 200 * 50);
        }
    }

    @Test
    void twoHundredSourcesThroughRemoteForwardEachGetTheirOwnReplies() throws Exception {
        try (Nodes nodes = new Nodes(); UdpTarget dns = dnsServer()) {
            SdtServer server = nodes.server(b -> b.allowBind("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.REMOTE,
                    "127.0.0.1:0:127.0.0.1:" + dns.port() + "/udp,idle=2m,max=1000"));
            InetSocketAddress at = client.tunnels().get(0).awaitBound(Duration.ofSeconds(10));
            assertNotNull(at, "remote UDP listener bound");
            dnsLike(at, 200, 50);
            assertEquals(200, client.stats().channelsOpened(), "the client opened one egress socket per source");
        }
    }

    @Test
    void idleTuplesExpireOnTheTickerAndCloseOnBothNodes() throws Exception {
        AtomicLong nanos = new AtomicLong();
        Ticker ticker = nanos::get;
        try (Nodes nodes = new Nodes(); UdpTarget echo = UdpTarget.echo(V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.ticker(ticker)
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port() + "/udp,idle=30s"));
            Tunnel t = client.tunnels().get(0);
            List<DatagramSocket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0));
                    s.setSoTimeout(500);
                    sockets.add(s);
                    byte[] m = ("x" + i + "#").getBytes(StandardCharsets.UTF_8);
                    exchange(s, t.boundAddress(), m, m);
                }
                assertEquals(3, t.tupleCount());
                nanos.addAndGet(Duration.ofSeconds(29).toNanos());
                byte[] keep = "x0#".getBytes(StandardCharsets.UTF_8);
                exchange(sockets.get(0), t.boundAddress(), keep, keep);
                nanos.addAndGet(Duration.ofSeconds(2).toNanos());
                // 31 s for sources 1 and 2, 2 s for source 0 (its traffic refreshed it)
                // the table drops an entry before its removal listener counts it: wait for both
                Await.until("two tuples expire", Duration.ofSeconds(5),
                        () -> t.tupleCount() == 1 && t.tuplesExpired() == 2);
                assertEquals(1, t.tupleCount());
                Await.until("egress channels closed on the server", Duration.ofSeconds(5),
                        () -> server.stats().channelsOpen() == 1);
                byte[] again = "x1#".getBytes(StandardCharsets.UTF_8);
                exchange(sockets.get(1), t.boundAddress(), again, again);
                assertEquals(4, server.stats().channelsOpened(), "an expired source gets a new channel");
            } finally {
                sockets.forEach(DatagramSocket::close);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void datagramBoundariesAndSizesArePreserved(String loopback) throws Exception {
        InetAddress address = InetAddress.getByName(loopback);
        String host = loopback.contains(":") ? "[" + loopback + "]" : loopback;
        try (Nodes nodes = new Nodes(); UdpTarget echo = UdpTarget.echo(address)) {
            SdtServer server = nodes.server(b -> b.allowTarget(host + ":" + echo.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL,
                    host + ":0:" + host + ":" + echo.port() + "/udp"));
            InetSocketAddress at = client.tunnels().get(0).boundAddress();
            assertEquals(address, at.getAddress());
            Random random = new Random(42);
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0))) {
                s.setSoTimeout(500);
                s.setReceiveBufferSize(1 << 20);
                s.setSendBufferSize(1 << 20);
                for (int size : new int[] {1, 2, 255, 256, 257, 1400, 8192, 32_768, 65_000}) {
                    byte[] m = new byte[size];
                    random.nextBytes(m);
                    m[0] = '#';
                    assertArrayEquals(m, exchange(s, at, m, m), "datagram of " + size + " bytes");
                }
            }
        }
    }

    /**
     * Bursts of equal-size datagrams leave the egress in GSO sends on epoll; every datagram must
     * still arrive whole and alone, including the shorter one that ends a batch and the ones after.
     */
    @Test
    void burstsOfEqualSizeDatagramsKeepEveryBoundaryThroughGso() throws Exception {
        assumeTrue(Transport.EPOLL.isAvailable(), "epoll is not available here");
        int[] pattern = new int[50];
        Arrays.fill(pattern, 0, 20, 1200);
        pattern[20] = 700;
        Arrays.fill(pattern, 21, 31, 1200);
        pattern[31] = 1;
        Arrays.fill(pattern, 32, 50, 64);
        int bursts = 8;
        try (Nodes nodes = new Nodes(Transport.EPOLL);
             DatagramSocket sink = new DatagramSocket(new InetSocketAddress(V4, 0));
             DatagramSocket sender = new DatagramSocket(new InetSocketAddress(V4, 0))) {
            sink.setReceiveBufferSize(4 << 20);
            sink.setSoTimeout(200);
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL,
                    "0:127.0.0.1:" + sink.getLocalPort() + "/udp"));
            InetSocketAddress at = client.tunnels().get(0).boundAddress();
            List<byte[]> received = new ArrayList<>();
            Future<?> reader = threads.submit(() -> {
                byte[] buf = new byte[65_535];
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (received.size() < bursts * pattern.length && System.nanoTime() < deadline) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        sink.receive(p);
                    } catch (SocketTimeoutException e) {
                        continue;
                    }
                    synchronized (received) {
                        received.add(Arrays.copyOf(p.getData(), p.getLength()));
                    }
                }
                return null;
            });
            for (int burst = 0; burst < bursts; burst++) {
                for (int i = 0; i < pattern.length; i++) {
                    sender.send(new DatagramPacket(datagram(burst * pattern.length + i, pattern[i]), pattern[i], at));
                }
                int expected = (burst + 1) * pattern.length;
                Await.until("burst " + burst + " delivered", Duration.ofSeconds(10), () -> {
                    synchronized (received) {
                        return received.size() >= expected;
                    }
                });
            }
            reader.get(60, TimeUnit.SECONDS);
            assertEquals(bursts * pattern.length, received.size());
            for (int k = 0; k < received.size(); k++) {
                int size = pattern[k % pattern.length];
                assertArrayEquals(datagram(k, size), received.get(k), "datagram " + k + " of " + size + " bytes");
            }
            if (io.netty.channel.epoll.EpollDatagramChannel.isSegmentedDatagramPacketSupported()) {
                assertTrue(server.stats().gsoSends() > 0, "equal-size bursts used GSO");
                assertTrue(server.stats().gsoSegments() >= 2 * server.stats().gsoSends());
            }
        }
    }

    /** Datagram number {@code k} of {@code size} bytes: its number, then a pattern derived from it. */
    private static byte[] datagram(int k, int size) {
        byte[] m = new byte[size];
        for (int i = 0; i < size; i++) {
            m[i] = (byte) (k * 31 + i);
        }
        if (size >= 4) {
            m[0] = (byte) (k >>> 24);
            m[1] = (byte) (k >>> 16);
            m[2] = (byte) (k >>> 8);
            m[3] = (byte) k;
        }
        return m;
    }

    @Test
    void moreSourcesThanMaxEvictsTheIdlestAndCountsIt() throws Exception {
        try (Nodes nodes = new Nodes(); UdpTarget echo = UdpTarget.echo(V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port() + "/udp,max=5"));
            Tunnel t = client.tunnels().get(0);
            List<DatagramSocket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0));
                    s.setSoTimeout(500);
                    sockets.add(s);
                    byte[] m = ("s" + i + "#").getBytes(StandardCharsets.UTF_8);
                    exchange(s, t.boundAddress(), m, m);
                    assertTrue(t.tupleCount() <= 5, "table stays within max=5");
                }
                assertEquals(3, t.tuplesEvicted());
                assertEquals(5, t.tupleCount());
                long opened = server.stats().channelsOpened();
                byte[] recent = "s7#".getBytes(StandardCharsets.UTF_8);
                exchange(sockets.get(7), t.boundAddress(), recent, recent);
                assertEquals(opened, server.stats().channelsOpened(), "a recent source kept its channel");
                byte[] oldest = "s0#".getBytes(StandardCharsets.UTF_8);
                exchange(sockets.get(0), t.boundAddress(), oldest, oldest);
                assertEquals(opened + 1, server.stats().channelsOpened(), "the idlest source had been evicted");
                assertEquals(4, t.tuplesEvicted());
                Await.until("evicted channels closed on the server", Duration.ofSeconds(5),
                        () -> server.stats().channelsOpen() == 5);
            } finally {
                sockets.forEach(DatagramSocket::close);
            }
        }
    }

    @Test
    void deniedTargetGetsNothingAndDropsAreCounted() throws Exception {
        try (Nodes nodes = new Nodes(); UdpTarget echo = UdpTarget.echo(V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("10.0.0.0/8"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port() + "/udp"));
            Tunnel t = client.tunnels().get(0);
            AtomicInteger replies = new AtomicInteger();
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0))) {
                s.setSoTimeout(200);
                byte[] m = "hello".getBytes(StandardCharsets.UTF_8);
                s.send(new DatagramPacket(m, m.length, t.boundAddress()));
                Await.until("refusal arrives", Duration.ofSeconds(5), () -> t.lastError() != null);
                for (int i = 0; i < 5; i++) {
                    s.send(new DatagramPacket(m, m.length, t.boundAddress()));
                }
                Await.until("refused datagrams counted", Duration.ofSeconds(5), () -> t.datagramsDropped() == 5);
                try {
                    s.receive(new DatagramPacket(new byte[100], 100));
                    replies.incrementAndGet();
                } catch (SocketTimeoutException expected) {
                    // nothing comes back
                }
            }
            assertEquals(0, replies.get());
            assertEquals(0, echo.received(), "the denied target saw nothing");
            assertTrue(t.lastError().contains("not allowed by the server's policy"), t.lastError());
            assertEquals(1, server.stats().opensDenied());
        }
    }
}
