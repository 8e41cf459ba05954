package io.sdt.core;

import com.sun.net.httpserver.HttpServer;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.HoldingRelay;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Socks5;
import io.sdt.core.testing.TrustAll;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Early data end to end, on real TLS links: the customer's first bytes travel with the OPEN, so they reach
 * the target while the far node's answer is still on its way back. A {@link HoldingRelay} between client and
 * server holds every byte from the server back; what reaches the target meanwhile can only have come early.
 * Also the optimistic SOCKS5 listener (success at once, a reset for a refusal) and the ALPN that decides
 * whether a link may carry early data at all.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EarlyDataIT {

    private static final InetAddress V4 = InetAddress.getLoopbackAddress();
    private static final byte[] REQUEST = "GET / HTTP/1.0\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESPONSE = "HTTP/1.0 200 OK\r\n\r\nearly".getBytes(StandardCharsets.US_ASCII);

    @Test
    void aForwardedCustomersRequestReachesTheTargetBeforeTheAnswerComesBack() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocket target = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.getLocalPort()));
            try (HoldingRelay relay = new HoldingRelay(new InetSocketAddress(V4, server.address().getPort()))) {
                SdtClient client = nodes.client(relay.port(),
                        b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.getLocalPort()), true);
                int entry = client.tunnels().get(0).boundAddress().getPort();
                relay.holdReplies();
                try (Socket customer = new Socket(V4, entry)) {
                    customer.getOutputStream().write(REQUEST);
                    customer.shutdownOutput(); // EOF may go early too
                    target.setSoTimeout(10_000);
                    try (Socket t = target.accept()) {
                        t.setSoTimeout(10_000);
                        assertArrayEquals(REQUEST, t.getInputStream().readAllBytes(),
                                "the request and its end arrived while the server's answer was held");
                        Await.until("OPEN_OK waits in the relay", Duration.ofSeconds(10), () -> relay.heldBytes() > 0);
                        t.getOutputStream().write(RESPONSE);
                        t.shutdownOutput();
                        relay.release();
                        customer.setSoTimeout(10_000);
                        assertArrayEquals(RESPONSE, customer.getInputStream().readAllBytes());
                    }
                }
                Await.until("the channel closed on both nodes", Duration.ofSeconds(10),
                        () -> client.stats().channelsOpen() == 0 && server.stats().channelsOpen() == 0);
            }
        }
    }

    @Test
    void aLargeFirstFlightSendsTheEarlyLimitAheadAndTheRestAfterTheAnswer() throws Exception {
        int size = 300 * 1024; // beyond the early limit (64 KiB) and the default window (256 KiB)
        byte[] upload = new byte[size];
        new Random(7).nextBytes(upload);
        try (Nodes nodes = new Nodes(); ServerSocket target = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.getLocalPort()));
            try (HoldingRelay relay = new HoldingRelay(new InetSocketAddress(V4, server.address().getPort()))) {
                SdtClient client = nodes.client(relay.port(),
                        b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.getLocalPort()), true);
                int entry = client.tunnels().get(0).boundAddress().getPort();
                relay.holdReplies();
                try (Socket customer = new Socket(V4, entry)) {
                    Thread writer = Thread.ofVirtual().start(() -> {
                        try {
                            customer.getOutputStream().write(upload);
                            customer.shutdownOutput();
                        } catch (IOException e) {
                            // the assertions below say what went wrong
                        }
                    });
                    target.setSoTimeout(10_000);
                    try (Socket t = target.accept()) {
                        t.setSoTimeout(10_000);
                        InputStream in = t.getInputStream();
                        byte[] ahead = in.readNBytes(64 * 1024);
                        assertArrayEquals(Arrays.copyOf(upload, 64 * 1024), ahead, "the early limit, in order");
                        t.setSoTimeout(500);
                        assertThrows(SocketTimeoutException.class, in::read,
                                "nothing beyond the early limit before the answer");
                        relay.release();
                        t.setSoTimeout(10_000);
                        byte[] rest = in.readAllBytes();
                        assertArrayEquals(Arrays.copyOfRange(upload, 64 * 1024, size), rest,
                                "the rest follows the answer, within the window OPEN_OK gave");
                    }
                    writer.join(10_000);
                }
            }
            assertEquals(0, server.stats().protocolErrors());
        }
    }

    @Test
    void aForwardedRequestThatWentAheadOfARefusalEndsInAReset() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, V4)) {
            closedPort = probe.getLocalPort();
        }
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + closedPort));
            try (HoldingRelay relay = new HoldingRelay(new InetSocketAddress(V4, server.address().getPort()))) {
                SdtClient client = nodes.client(relay.port(),
                        b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + closedPort), true);
                int entry = client.tunnels().get(0).boundAddress().getPort();
                long before = client.stats().bytesToLink();
                relay.holdReplies(); // the refusal waits until the request has surely gone ahead
                try (Socket customer = new Socket(V4, entry)) {
                    customer.setSoTimeout(10_000);
                    customer.getOutputStream().write(REQUEST);
                    Await.until("the request went ahead", Duration.ofSeconds(10),
                            () -> client.stats().bytesToLink() - before >= REQUEST.length);
                    relay.release();
                    assertThrows(IOException.class, () -> customer.getInputStream().read(),
                            "its request was taken and went nowhere: a reset, not an empty clean end");
                }
                assertEquals(1, server.stats().opensFailed());
            }
        }
    }

    @Test
    void anOptimisticSocksListenerAnswersAtOnceAndItsRequestRidesWithTheOpen() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocket target = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.getLocalPort()));
            try (HoldingRelay relay = new HoldingRelay(new InetSocketAddress(V4, server.address().getPort()))) {
                SdtClient client = nodes.client(relay.port(), b -> b.dynamic("0,optimistic"), true);
                int proxy = client.tunnels().get(0).boundAddress().getPort();
                relay.holdReplies();
                try (Socket customer = new Socket(V4, proxy)) {
                    customer.setSoTimeout(10_000);
                    assertEquals(0, Socks5.connect(customer, new InetSocketAddress(V4, target.getLocalPort())),
                            "REP 0x00 while nothing from the server can arrive");
                    customer.getOutputStream().write(REQUEST);
                    target.setSoTimeout(10_000);
                    try (Socket t = target.accept()) {
                        t.setSoTimeout(10_000);
                        assertArrayEquals(REQUEST, t.getInputStream().readNBytes(REQUEST.length));
                        t.getOutputStream().write(RESPONSE);
                        t.shutdownOutput();
                        relay.release();
                        assertArrayEquals(RESPONSE, customer.getInputStream().readNBytes(RESPONSE.length));
                    }
                }
            }
        }
    }

    @Test
    void anOptimisticCustomerOfADeniedTargetIsResetNotToldTheStreamEnded() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocket allowed = new ServerSocket(0, 50, V4);
             ServerSocket forbidden = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + allowed.getLocalPort()));
            SdtClient client = nodes.client(server, b -> b.dynamic("0,optimistic"));
            int proxy = client.tunnels().get(0).boundAddress().getPort();
            try (Socket customer = new Socket(V4, proxy)) {
                customer.setSoTimeout(10_000);
                assertEquals(0, Socks5.connect(customer, new InetSocketAddress(V4, forbidden.getLocalPort())),
                        "optimistic: success before the server has decided");
                customer.getOutputStream().write(REQUEST);
                assertThrows(IOException.class, () -> customer.getInputStream().read(),
                        "the refusal arrives as a reset, never as a clean end of the stream");
            }
            forbidden.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, forbidden::accept, "the denied target saw nothing");
            assertEquals(1, server.stats().opensDenied(), "the server decided, and its audit trail says so");
            Await.until("the slot came back", Duration.ofSeconds(10),
                    () -> client.tunnels().get(0).activeChannels() == 0);
            String lastError = client.tunnels().get(0).lastError();
            assertTrue(lastError.contains("not allowed"), lastError);
        }
    }

    @Test
    void aReverseOptimisticListenerOnTheServerAnswersAtOnceAndResetsARefusal() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocket target = new ServerSocket(0, 50, V4);
             ServerSocket forbidden = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowBind("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.REMOTE, "0,optimistic")
                    .allowTarget("127.0.0.1:" + target.getLocalPort()));
            int proxy = client.tunnels().get(0).awaitBound(Duration.ofSeconds(10)).getPort();
            try (Socket customer = new Socket(V4, proxy)) {
                customer.setSoTimeout(10_000);
                assertEquals(0, Socks5.connect(customer, new InetSocketAddress(V4, target.getLocalPort())));
                customer.getOutputStream().write(REQUEST);
                target.setSoTimeout(10_000);
                try (Socket t = target.accept()) {
                    t.setSoTimeout(10_000);
                    assertArrayEquals(REQUEST, t.getInputStream().readNBytes(REQUEST.length), "it rode with the OPEN");
                    t.getOutputStream().write(RESPONSE);
                    assertArrayEquals(RESPONSE, customer.getInputStream().readNBytes(RESPONSE.length));
                }
            }
            try (Socket customer = new Socket(V4, proxy)) {
                customer.setSoTimeout(10_000);
                assertEquals(0, Socks5.connect(customer, new InetSocketAddress(V4, forbidden.getLocalPort())),
                        "optimistic: success before the client's policy has decided");
                customer.getOutputStream().write(REQUEST);
                assertThrows(IOException.class, () -> customer.getInputStream().read(), "then a reset");
            }
            assertEquals(1, client.stats().opensDenied(), "the exit (the client) refused it");
        }
    }

    @Test
    void aPlainSocksListenerStillAnswersARefusalInItsProtocol() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocket forbidden = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:1"));
            SdtClient client = nodes.client(server, b -> b.dynamic("0"));
            int proxy = client.tunnels().get(0).boundAddress().getPort();
            try (Socket customer = new Socket(V4, proxy)) {
                customer.setSoTimeout(10_000);
                assertEquals(2, Socks5.connect(customer, new InetSocketAddress(V4, forbidden.getLocalPort())),
                        "REP 0x02 (not allowed by ruleset) on a link that could carry early data");
            }
        }
    }

    @Test
    void theServerSpeaksEarlyDataOnlyWithAClientThatOffersIt() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> { });
            int port = server.address().getPort();
            assertEquals(TlsSetup.ALPN, negotiate(port, TlsSetup.ALPN), "a client of the first version is served");
            assertEquals(TlsSetup.ALPN_EARLY, negotiate(port, TlsSetup.ALPN_EARLY, TlsSetup.ALPN));
            assertEquals(TlsSetup.ALPN_EARLY, negotiate(port, TlsSetup.ALPN, TlsSetup.ALPN_EARLY),
                    "the server's preference decides");
        }
    }

    @Test
    void curlFetchesThroughAnOptimisticListenerAndAnEarlyForward() throws Exception {
        byte[] body = new byte[1 << 20];
        new Random(11).nextBytes(body);
        HttpServer http = HttpServer.create(new InetSocketAddress(V4, 0), 50);
        http.createContext("/blob", ex -> {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        try (Nodes nodes = new Nodes()) {
            int port = http.getAddress().getPort();
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + port).allowTarget("localhost:" + port));
            SdtClient client = nodes.client(server, b -> b.dynamic("0,optimistic")
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + port));
            String proxy = "127.0.0.1:" + client.tunnels().get(0).boundAddress().getPort();
            int entry = client.tunnels().get(1).boundAddress().getPort();
            String url = "http://127.0.0.1:" + port + "/blob";
            assertArrayEquals(body, curl(Set.of(0), "--socks5-hostname", proxy, "http://localhost:" + port + "/blob")
                    .out(), "SOCKS5, the name resolved on the exit node");
            assertArrayEquals(body, curl(Set.of(0), "-p", "-x", "http://" + proxy, url).out(),
                    "HTTP CONNECT (curl -p)");
            assertArrayEquals(body, curl(Set.of(0), "http://127.0.0.1:" + entry + "/blob").out(), "through -L");
        } finally {
            http.stop(0);
        }
    }

    @Test
    void curlIsResetByAnOptimisticListenerAndRefusedInSocksByAPlainOne() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocket forbidden = new ServerSocket(0, 50, V4)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:1"));
            SdtClient client = nodes.client(server, b -> b.dynamic("0,optimistic").dynamic("0"));
            String url = "http://127.0.0.1:" + forbidden.getLocalPort() + "/";
            // 56: the reset came while curl read its reply; 55: already while it sent its request
            String optimisticProxy = "127.0.0.1:" + client.tunnels().get(0).boundAddress().getPort();
            String plainProxy = "127.0.0.1:" + client.tunnels().get(1).boundAddress().getPort();
            Curl optimistic = curl(Set.of(55, 56), "--socks5", optimisticProxy, url);
            assertTrue(optimistic.err().contains("reset"),
                    "curl reads a reset, not an empty reply: " + optimistic.err());
            Curl plain = curl(Set.of(97), "--socks5", plainProxy, url);
            assertTrue(plain.err().contains("SOCKS5"), "curl names the proxy's refusal: " + plain.err());
            assertEquals(2, server.stats().opensDenied());
        }
    }

    // ---- helpers ----

    private record Curl(byte[] out, String err) {
    }

    /** Runs curl (skips the test where it is not installed); {@code exits} are the exit codes it may end with. */
    private static Curl curl(Set<Integer> exits, String... args) throws Exception {
        Path curl = Path.of("/usr/bin/curl");
        assumeTrue(Files.isExecutable(curl),
                "curl is not installed (apt-get install curl)");
        List<String> cmd = new ArrayList<>(List.of(curl.toString(), "-sS", "--max-time", "20", "--noproxy", ""));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "curl did not finish");
        assertTrue(exits.contains(p.exitValue()),
                "curl " + String.join(" ", args) + " exited " + p.exitValue() + ": " + err);
        return new Curl(out, err);
    }

    /** A TLS handshake offering {@code protocols}; returns the one the server chose. */
    private static String negotiate(int port, String... protocols) throws Exception {
        SSLContext ctx = TrustAll.tls13();
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(protocols);
            s.setSSLParameters(p);
            s.setSoTimeout(5000);
            s.startHandshake();
            return s.getApplicationProtocol();
        }
    }
}
