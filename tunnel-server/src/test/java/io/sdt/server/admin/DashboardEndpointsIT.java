package io.sdt.server.admin;

import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the dashboard reads, over real nodes on loopback: the page and its files, {@code /links},
 * {@code /events} with its filters and its bad queries, and the admin token.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DashboardEndpointsIT {

    private final Transport transport = Transport.select("auto");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(InetSocketAddress at, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
                .timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(InetSocketAddress at, String path) throws Exception {
        return get(at, path, null);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(String json) {
        return (Map<String, Object>) Json.parse(json);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }

    private static void exchange(InetSocketAddress at) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        }
    }

    @Test
    void thePageAndItsFilesComeFromTheJarWithAStrictPolicy() throws Exception {
        try (Nodes nodes = new Nodes(transport); Admins admins = new Admins(transport)) {
            SdtServer server = nodes.server(b -> { });
            InetSocketAddress at = admins.start(NodeView.of(server));
            HttpResponse<String> page = get(at, "/");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
            assertTrue(page.body().contains("<script src=\"dashboard.js\""), "the page loads its script");
            String csp = page.headers().firstValue("content-security-policy").orElse("");
            assertTrue(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), csp);
            assertEquals("nosniff", page.headers().firstValue("x-content-type-options").orElse(""));
            HttpResponse<String> js = get(at, "/dashboard.js");
            assertEquals(200, js.statusCode());
            assertTrue(js.headers().firstValue("content-type").orElse("").startsWith("text/javascript"));
            assertTrue(js.body().contains("/events"), "the script reads the events");
            assertEquals(200, get(at, "/dashboard.css").statusCode());
            assertEquals(404, get(at, "/dashboard.map").statusCode());
            assertEquals(404, get(at, "/../pom.xml").statusCode());
            assertEquals(404, get(at, "/index.html").statusCode());
            HttpResponse<String> vpn = get(at, "/vpn");
            assertEquals(200, vpn.statusCode());
            assertEquals(Map.of("enabled", false, "peers", List.of()), object(vpn.body()), "no VPN on this node");
        }
    }

    @Test
    void linksSayWhoIsUpSinceWhenAndTheRoundTrip() throws Exception {
        LinkSettings fast = LinkSettings.defaults().withHeartbeat(Duration.ofMillis(100), Duration.ofSeconds(5));
        try (Nodes nodes = new Nodes(transport); Admins admins = new Admins(transport)) {
            SdtServer server = nodes.server(b -> b.settings(fast));
            long before = System.currentTimeMillis();
            SdtClient client = nodes.client(server, b -> b.settings(fast));
            InetSocketAddress clientAt = admins.start(NodeView.of(client));
            InetSocketAddress serverAt = admins.start(NodeView.of(server));
            Await.until("a heartbeat round trip on both nodes", Duration.ofSeconds(10), () -> {
                try {
                    return rtt(clientAt) >= 0 && rtt(serverAt) >= 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            Map<String, Object> c = object(get(clientAt, "/links").body());
            assertEquals("client", c.get("role"));
            assertEquals(1L, c.get("linksWanted"));
            Map<String, Object> link = list(c.get("links")).getFirst();
            assertEquals("127.0.0.1:" + server.address().getPort(), link.get("server"));
            assertEquals(true, link.get("up"));
            assertTrue((Long) link.get("sinceMillis") >= before - 1000, link.toString());
            assertTrue(((String) link.get("since")).endsWith("Z"), "ISO-8601 UTC");
            assertTrue(((String) link.get("peer")).contains(Integer.toString(server.address().getPort())));
            assertNull(link.get("problem"));

            Map<String, Object> s = object(get(serverAt, "/links").body());
            assertEquals("server", s.get("role"));
            assertEquals(1, list(s.get("links")).size());
            assertNull(list(s.get("links")).getFirst().get("server"));

            server.close();
            Await.until("the client's link shows down with why", Duration.ofSeconds(20), () -> {
                try {
                    Map<String, Object> l = list(object(get(clientAt, "/links").body()).get("links")).getFirst();
                    return l.get("up").equals(false) && l.get("problem") != null && (Long) l.get("rttMicros") == -1;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    private long rtt(InetSocketAddress at) throws Exception {
        List<Map<String, Object>> links = list(object(get(at, "/links").body()).get("links"));
        return links.isEmpty() ? -1 : (Long) links.getFirst().get("rttMicros");
    }

    @Test
    void eventsAreTheLatestDecisionsFilteredAndBadQueriesAreRefused() throws Exception {
        try (Nodes nodes = new Nodes(transport); Admins admins = new Admins(transport);
             Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + echo.port())
                    .forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:9"));
            InetSocketAddress at = admins.start(NodeView.of(server));
            exchange(client.tunnels().get(0).boundAddress());
            exchange(client.tunnels().get(0).boundAddress());
            try { // port 9 is not allowed: denied, and the customer's socket closed
                exchange(client.tunnels().get(1).boundAddress());
            } catch (java.net.SocketException e) {
                // closed before its "ping" was read: the kernel resets instead of a FIN; the decision is what counts
            }
            Await.until("three decisions", Duration.ofSeconds(10), () -> server.recentAudit().total() == 3);

            Map<String, Object> all = object(get(at, "/events").body());
            assertEquals(3L, all.get("total"));
            List<Map<String, Object>> events = list(all.get("events"));
            assertEquals(3, events.size());
            assertEquals("denied", events.getFirst().get("decision"), "newest first");
            assertEquals("127.0.0.1:9", events.getFirst().get("target"));
            assertEquals("none", events.getFirst().get("rule"));
            assertEquals("allowed", events.get(1).get("decision"));
            assertEquals("127.0.0.1:" + echo.port(), events.get(1).get("target"));
            assertEquals("tcp", events.get(1).get("kind"));
            assertTrue(((Long) events.get(0).get("seq")) > (Long) events.get(1).get("seq"));

            assertEquals(1, list(object(get(at, "/events?decision=denied").body()).get("events")).size());
            assertEquals(2, list(object(get(at, "/events?decision=allowed").body()).get("events")).size());
            assertEquals(1, list(object(get(at, "/events?limit=1").body()).get("events")).size());
            assertEquals(1, list(object(get(at, "/events?q=127.0.0.1:9").body()).get("events")).size());
            assertEquals(0, list(object(get(at, "/events?q=nowhere.example").body()).get("events")).size());
            long newest = (Long) events.getFirst().get("seq");
            assertEquals(0, list(object(get(at, "/events?after=" + newest).body()).get("events")).size());
            assertEquals(2, list(object(get(at, "/events?after=" + (newest - 2)).body()).get("events")).size());

            for (String bad : List.of("limit=0", "limit=501", "limit=ten", "after=-1", "decision=maybe",
                    "color=red", "limit=1&limit=2", "q=" + "x".repeat(201))) {
                HttpResponse<String> r = get(at, "/events?" + bad);
                assertEquals(400, r.statusCode(), bad);
                assertTrue(r.body().startsWith("bad query: "), bad + ": " + r.body());
            }
        }
    }

    @Test
    void withATokenEveryPathButHealthzNeedsIt() throws Exception {
        String token = "t0k-" + Long.toHexString(System.nanoTime());
        try (Nodes nodes = new Nodes(transport)) {
            SdtServer server = nodes.server(b -> { });
            AdminServer admin = new AdminServer(new HostPort("127.0.0.1", 0), transport, NodeView.of(server), token);
            try {
                InetSocketAddress at = admin.start();
                for (String path : List.of("/", "/dashboard.js", "/metrics", "/tunnels", "/links", "/vpn", "/events",
                        "/no-such-page")) {
                    HttpResponse<String> none = get(at, path);
                    assertEquals(401, none.statusCode(), path);
                    assertTrue(none.headers().allValues("www-authenticate").stream()
                            .anyMatch(v -> v.startsWith("Basic realm=")), path + ": a browser can ask for it");
                    assertFalse(none.body().contains(token));
                    assertEquals(401, get(at, path, "Bearer wrong-" + token).statusCode(), path);
                    assertEquals(401, get(at, path, "Bearer " + token + "x").statusCode(), path);
                    assertEquals(401, get(at, path, "Basic " + basic("admin:nope")).statusCode(), path);
                    assertEquals(401, get(at, path, "Basic !!!not-base64").statusCode(), path);
                    assertEquals(401, get(at, path, "Token " + token).statusCode(), path);
                    assertEquals(401, get(at, path, "Bearer").statusCode(), path);
                    int expected = path.equals("/no-such-page") ? 404 : 200;
                    assertEquals(expected, get(at, path, "Bearer " + token).statusCode(), path);
                    assertEquals(expected, get(at, path, "Basic " + basic("anyone:" + token)).statusCode(), path);
                }
                assertEquals(200, get(at, "/healthz").statusCode(), "probes need no token");
            } finally {
                admin.close();
            }
            assertThrows(IllegalArgumentException.class,
                    () -> new AdminServer(new HostPort("127.0.0.1", 0), transport, NodeView.of(server), ""));
        }
    }

    private static String basic(String userPass) {
        return Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
    }
}
