package io.sdt.server.admin;

import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import io.sdt.core.tunnel.router.proxy.ProxyAuth;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin endpoint of real nodes on loopback: exact counters, health, the tunnel list, HTTP errors. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminEndpointIT {

    private static final InetAddress V4 = InetAddress.getLoopbackAddress();
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F]*:[0-9a-fA-F:]*:[0-9a-fA-F:.]*");
    /** {@code result} and {@code le} are the channel-open histogram's ({@code ok|fail}, bucket bounds). */
    private static final Set<String> SDT_TAGS = Set.of("tunnel", "mode", "direction", "result", "le");

    private final Transport transport = Transport.select("auto");
    private final Admins admins = new Admins(transport);

    @AfterEach
    void closeAdmins() {
        admins.close();
    }

    private InetSocketAddress admin(NodeView node) {
        return admins.start(node);
    }

    private HttpResponse<String> send(InetSocketAddress at, String method, String path) throws Exception {
        return admins.send(at, method, path);
    }

    private PrometheusText scrape(InetSocketAddress at) throws Exception {
        HttpResponse<String> r = send(at, "GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"),
                r.headers().toString());
        return PrometheusText.parse(r.body());
    }

    /** Sends {@code size} bytes, half-closes, reads the target's answer to EOF; returns the answer's length. */
    private static long tcpExchange(InetSocketAddress at, long size, long seed) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(20_000);
            Payloads.write(s.getOutputStream(), size, seed);
            s.shutdownOutput();
            return s.getInputStream().readAllBytes().length;
        }
    }

    /** A TCP target that reads to EOF, then answers with {@link #ANSWER} bytes (so each direction differs). */
    private static Targets readAllThenAnswer(java.util.concurrent.atomic.AtomicLong received) throws Exception {
        return new Targets(s -> {
            received.addAndGet(s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()));
            s.getOutputStream().write(new byte[ANSWER]);
            s.shutdownOutput();
        });
    }

    private static final int ANSWER = 54_321;

    /**
     * Sends {@code count} datagrams one at a time, each waiting for its answer (the payload twice; no
     * retries: a loss fails); returns the bytes sent.
     */
    private static long udpLockstep(InetSocketAddress at, int count) throws Exception {
        long bytes = 0;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0))) {
            s.setSoTimeout(10_000);
            byte[] buf = new byte[2048];
            for (int i = 0; i < count; i++) {
                byte[] out = new byte[100 + i * 7];
                Arrays.fill(out, (byte) i);
                s.send(new DatagramPacket(out, out.length, at));
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                s.receive(p);
                byte[] doubled = Arrays.copyOf(out, out.length * 2);
                System.arraycopy(out, 0, doubled, out.length, out.length);
                assertArrayEquals(doubled, Arrays.copyOf(p.getData(), p.getLength()), "answer to datagram " + i);
                bytes += out.length;
            }
        }
        return bytes;
    }

    @Test
    void metricsMoveByExactlyThePayloadAndDatagramsSent() throws Exception {
        java.util.concurrent.atomic.AtomicLong tcpReceived = new java.util.concurrent.atomic.AtomicLong();
        try (Nodes nodes = new Nodes(transport); Targets echo = readAllThenAnswer(tcpReceived);
             UdpTarget udp = new UdpTarget(V4, b -> {
                 byte[] twice = Arrays.copyOf(b, b.length * 2);
                 System.arraycopy(b, 0, twice, b.length, b.length);
                 return twice;
             })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            String tcpSpec = "127.0.0.1:0:127.0.0.1:" + echo.port();
            String udpSpec = "127.0.0.1:0:127.0.0.1:" + udp.port() + "/udp";
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, tcpSpec)
                    .forward(Direction.LOCAL, udpSpec));
            InetSocketAddress clientAdmin = admin(NodeView.of(client));
            InetSocketAddress serverAdmin = admin(NodeView.of(server));

            PrometheusText idle = scrape(clientAdmin);
            assertEquals(0, idle.value("sdt_link_payload_bytes_total", "direction", "to_link"));
            assertEquals(0, idle.value("sdt_tunnel_channels_opened_total", "tunnel", tcpSpec));

            long tcpBytes = (1 << 20) + 12_345;
            assertEquals(ANSWER, tcpExchange(client.tunnels().get(0).boundAddress(), tcpBytes, 7));
            assertEquals(tcpBytes, tcpReceived.get(), "the target got every byte");
            int datagrams = 40;
            long udpBytes = udpLockstep(client.tunnels().get(1).boundAddress(), datagrams);

            long up = tcpBytes + udpBytes;            // client -> server: what the customers sent
            long down = ANSWER + 2 * udpBytes;         // server -> client: what the targets answered
            for (InetSocketAddress at : List.of(clientAdmin, serverAdmin)) {
                PrometheusText m = scrape(at);
                boolean isClient = at == clientAdmin;
                String who = isClient ? "client" : "server";
                // payload only (no frame headers): TCP stream bytes plus UDP datagram payloads
                assertEquals(isClient ? up : down, m.value("sdt_link_payload_bytes_total", "direction", "to_link"), who);
                assertEquals(isClient ? down : up, m.value("sdt_link_payload_bytes_total", "direction", "from_link"), who);
                assertEquals(datagrams, m.value("sdt_link_datagrams_total", "direction", "to_link"), who);
                assertEquals(datagrams, m.value("sdt_link_datagrams_total", "direction", "from_link"), who);
                assertEquals(1, m.value("sdt_links_up"), who);
                assertEquals(1, m.value("sdt_links_established_total"), who);
                assertEquals(0, m.value("sdt_datagrams_dropped_total"), who);
                assertEquals(0, m.value("sdt_auth_failures_total"), who);
                assertEquals("counter", m.types.get("sdt_link_payload_bytes_total"));
                assertEquals("gauge", m.types.get("sdt_links_up"));
                // the traffic is done: nothing waits in the link's scheduler; windows are back to the budget
                assertEquals(0, m.value("sdt_link_queue_bytes"), who);
                assertEquals("gauge", m.types.get("sdt_link_queue_bytes"));
                assertEquals("counter", m.types.get("sdt_window_stalls_total"));
                assertEquals("gauge", m.types.get("sdt_window_bytes"));
                assertFalse(m.find("jvm_memory_used_bytes", Map.of()).isEmpty(), "JVM binders are on");
                assertFalse(m.find("jvm_threads_live_threads", Map.of()).isEmpty(), "JVM thread binder is on");
                assertTrue(m.value("sdt_netty_direct_memory_used_bytes") != 0, "direct memory gauge");
                assertLowCardinality(m, at == clientAdmin ? Set.of(tcpSpec, udpSpec) : Set.of());
            }

            PrometheusText c = scrape(clientAdmin);
            assertEquals(datagrams, c.value("sdt_tunnel_datagrams_total", "tunnel", udpSpec, "mode", "udp", "direction", "in"));
            assertEquals(datagrams, c.value("sdt_tunnel_datagrams_total", "tunnel", udpSpec, "mode", "udp", "direction", "out"));
            assertEquals(0, c.value("sdt_tunnel_datagrams_dropped_total", "tunnel", udpSpec));
            assertEquals("gauge", c.types.get("sdt_tunnel_window_bytes"));
            // the window of an open channel counts; a closed one's is given back
            boolean channelOpen = c.value("sdt_tunnel_channels_active", "tunnel", tcpSpec) > 0;
            assertEquals(channelOpen, c.value("sdt_tunnel_window_bytes", "tunnel", tcpSpec, "mode", "tcp") > 0,
                    "a tunnel's windows are there while its channels are");
            assertEquals(1, c.value("sdt_tunnel_channels_opened_total", "tunnel", tcpSpec, "mode", "tcp"), "one connection");
            assertEquals(1, c.value("sdt_tunnel_channels_opened_total", "tunnel", udpSpec, "mode", "udp"), "one source tuple");
            assertEquals(1, c.value("sdt_tunnel_tuples", "tunnel", udpSpec), "the tuple is still in the table");
            // each tunnel's own payload, each way: the customer's bytes up, the target's answer down
            assertEquals(tcpBytes, c.value("sdt_tunnel_payload_bytes_total", "tunnel", tcpSpec, "direction", "to_link"));
            assertEquals(ANSWER, c.value("sdt_tunnel_payload_bytes_total", "tunnel", tcpSpec, "direction", "from_link"));
            assertEquals(udpBytes, c.value("sdt_tunnel_payload_bytes_total", "tunnel", udpSpec, "direction", "to_link"));
            assertEquals(2 * udpBytes, c.value("sdt_tunnel_payload_bytes_total", "tunnel", udpSpec, "direction", "from_link"));
            assertEquals("counter", c.types.get("sdt_tunnel_payload_bytes_total"));
            assertTrue(c.find("sdt_tunnel_datagrams_total", Map.of("tunnel", tcpSpec)).isEmpty(), "no datagram meters on TCP");
            // the counters agree with the core's own
            assertEquals(client.stats().bytesToLink(), (long) c.value("sdt_link_payload_bytes_total", "direction", "to_link"));
            assertEquals(server.stats().channelsOpened(), (long) scrape(serverAdmin).value("sdt_channels_opened_total"));
        }
    }

    /** Only tunnel/mode/direction tags on sdt_ meters; the only address-like values are the tunnels' own labels. */
    private static void assertLowCardinality(PrometheusText m, Set<String> tunnelLabels) {
        Set<String> seenTunnels = new TreeSet<>();
        for (PrometheusText.Sample s : m.samples) {
            if (s.name().startsWith("sdt_")) {
                assertTrue(SDT_TAGS.containsAll(s.labels().keySet()), () -> "tag outside the set: " + s);
            }
            for (Map.Entry<String, String> e : s.labels().entrySet()) {
                if (e.getKey().equals("tunnel")) {
                    seenTunnels.add(e.getValue());
                    assertTrue(tunnelLabels.contains(e.getValue()), () -> "unknown tunnel tag: " + s);
                } else {
                    assertFalse(IPV4.matcher(e.getValue()).find() || IPV6.matcher(e.getValue()).find(),
                            () -> "address in a label value: " + s);
                }
            }
        }
        assertEquals(new TreeSet<>(tunnelLabels), seenTunnels, "one tunnel tag value per configured tunnel");
    }

    @Test
    void healthzFlipsTo503WhenTheLinkDrops() throws Exception {
        try (Nodes nodes = new Nodes(transport)) {
            SdtServer server = nodes.server(b -> { });
            SdtClient client = nodes.client(server, b -> { });
            InetSocketAddress clientAdmin = admin(NodeView.of(client));
            InetSocketAddress serverAdmin = admin(NodeView.of(server));
            HttpResponse<String> up = send(clientAdmin, "GET", "/healthz");
            assertEquals(200, up.statusCode());
            assertEquals("ok\n", up.body());
            assertEquals(200, send(serverAdmin, "GET", "/healthz").statusCode());

            server.close();
            assertEquals(503, send(serverAdmin, "GET", "/healthz").statusCode(), "a closed listener is unhealthy");
            Await.until("client /healthz 503", Duration.ofSeconds(20),
                    () -> status(clientAdmin, "/healthz") == 503);
            assertFalse(client.isUp());
            Await.until("client sdt_links_up 0", Duration.ofSeconds(20), () -> {
                try {
                    return scrape(clientAdmin).value("sdt_links_up") == 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    private int status(InetSocketAddress at, String path) {
        try {
            return send(at, "GET", path).statusCode();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void tunnelsListsEveryTunnelAndNoSecret() throws Exception {
        String password = "pw-" + Long.toHexString(System.nanoTime()) + "-secret";
        try (Nodes nodes = new Nodes(transport)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:9")
                    .forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:9/udp,idle=5s")
                    .dynamic("127.0.0.1:0")
                    .proxyAuth(ProxyAuth.of("alice", password)));
            InetSocketAddress at = admin(NodeView.of(client));
            HttpResponse<String> r = send(at, "GET", "/tunnels");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
            assertFalse(r.body().contains(nodes.token), "no token in /tunnels");
            assertFalse(r.body().contains(password), "no proxy password in /tunnels");
            assertFalse(scrape(at).samples.toString().contains(password));

            List<?> list = (List<?>) Json.parse(r.body());
            assertEquals(3, list.size());
            List<Tunnel> tunnels = client.tunnels();
            String[] modes = {"tcp", "udp", "dynamic"};
            for (int i = 0; i < 3; i++) {
                Map<?, ?> t = (Map<?, ?>) list.get(i);
                Tunnel want = tunnels.get(i);
                assertEquals((long) want.id(), t.get("id"));
                assertEquals(want.spec().label(), t.get("tunnel"));
                assertEquals("local", t.get("direction"));
                assertEquals(modes[i], t.get("mode"));
                assertEquals(HostPort.of(want.boundAddress()).toString(), t.get("bound"));
                assertEquals(0L, t.get("activeChannels"));
                assertNull(t.get("lastError"));
                Map<?, ?> counters = (Map<?, ?>) t.get("counters");
                assertEquals(0L, counters.get("channelsOpened"));
                assertEquals(0L, counters.get("bytesToLink"));
                assertEquals(0L, counters.get("bytesFromLink"));
                assertEquals(11, counters.size(), counters.toString());
            }

            HttpResponse<String> serverTunnels = send(admin(NodeView.of(server)), "GET", "/tunnels");
            assertEquals(List.of(), Json.parse(serverTunnels.body()), "a server has no client tunnels");
        }
    }

    @Test
    void onlyGetOnKnownPaths() throws Exception {
        try (Nodes nodes = new Nodes(transport)) {
            SdtServer server = nodes.server(b -> { });
            InetSocketAddress at = admin(NodeView.of(server));
            assertEquals(404, send(at, "GET", "/nope").statusCode());
            assertEquals(404, send(at, "GET", "/dashboard").statusCode());
            assertEquals(405, send(at, "POST", "/").statusCode(), "the dashboard is GET too");
            HttpResponse<String> post = send(at, "POST", "/metrics");
            assertEquals(405, post.statusCode());
            assertEquals("GET", post.headers().firstValue("allow").orElse(null));
            assertEquals(405, send(at, "DELETE", "/healthz").statusCode());
            assertEquals(200, send(at, "GET", "/healthz?verbose=1").statusCode(), "a query string is ignored");
        }
    }

    @Test
    void closingTheAdminServerFreesItsPort() throws Exception {
        try (Nodes nodes = new Nodes(transport)) {
            SdtServer server = nodes.server(b -> { });
            AdminServer a = new AdminServer(new HostPort("127.0.0.1", 0), transport, NodeView.of(server));
            InetSocketAddress at = a.start();
            assertEquals(200, send(at, "GET", "/healthz").statusCode());
            a.close();
            a.close();
            try (Socket s = new Socket()) {
                s.connect(at, 2000);
                throw new AssertionError("admin port still accepts after close");
            } catch (java.net.ConnectException expected) {
                // refused: the listener is gone
            }
        }
    }
}
