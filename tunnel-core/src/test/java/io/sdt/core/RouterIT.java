package io.sdt.core;

import com.sun.net.httpserver.HttpServer;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Socks5;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import io.sdt.core.tunnel.router.proxy.ProxyAuth;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Router mode end to end: real curl through {@code -D} and the reverse {@code -R PORT}, a SOCKS5 UDP
 * ASSOCIATE client written here, policy refusals with their protocol codes, and malformed customers.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RouterIT {

    private static final InetAddress V4 = InetAddress.getLoopbackAddress();
    private HttpServer http;
    private byte[] body;

    @BeforeEach
    void startHttp() throws IOException {
        body = new byte[1 << 20];
        new Random(7).nextBytes(body);
        http = HttpServer.create(new InetSocketAddress(V4, 0), 50);
        http.createContext("/blob", ex -> {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
    }

    @AfterEach
    void stopHttp() {
        http.stop(0);
    }

    private int httpPort() {
        return http.getAddress().getPort();
    }

    // ---- curl ----

    private static Path curl() {
        Path p = Path.of("/usr/bin/curl");
        assumeTrue(Files.isExecutable(p), "curl is not installed (apt-get install curl)");
        return p;
    }

    /** Runs curl with {@code args} and returns what it wrote to stdout; fails on a non-zero exit. */
    private static byte[] runCurl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(curl().toString(), "-sS", "--max-time", "20", "--noproxy", ""));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "curl did not finish");
        assertEquals(0, p.exitValue(), "curl " + String.join(" ", args) + " failed: " + err);
        return out;
    }

    private void fetchThrough(InetSocketAddress proxy) throws Exception {
        String p = "127.0.0.1:" + proxy.getPort();
        assertArrayEquals(body, runCurl("--socks5-hostname", p, "http://localhost:" + httpPort() + "/blob"),
                "SOCKS5 with a name resolved on the exit node");
        assertArrayEquals(body, runCurl("--socks5", p, "http://127.0.0.1:" + httpPort() + "/blob"),
                "SOCKS5 with an IPv4 target");
        assertArrayEquals(body, runCurl("-p", "-x", "http://" + p, "http://127.0.0.1:" + httpPort() + "/blob"),
                "HTTP CONNECT (curl -p)");
    }

    @Test
    void curlThroughDynamicForward() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + httpPort()).allowTarget("localhost:" + httpPort()));
            SdtClient client = nodes.client(server, b -> b.dynamic("0"));
            fetchThrough(client.tunnels().get(0).boundAddress());
            assertTrue(server.stats().channelsOpened() >= 3);
        }
    }

    @Test
    void curlThroughReverseDynamicForward() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowBind("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.REMOTE, "0")
                    .allowTarget("127.0.0.1:" + httpPort()).allowTarget("localhost:" + httpPort()));
            InetSocketAddress onServer = client.tunnels().get(0).awaitBound(Duration.ofSeconds(10));
            fetchThrough(onServer);
            assertTrue(client.stats().channelsOpened() >= 3, "the channels exit at the client");
        }
    }

    // ---- SOCKS5 by hand ----

    /** The BND address of the last reply, read by {@link #associate}. */
    private static InetSocketAddress associate(Socket s) throws IOException {
        OutputStream out = s.getOutputStream();
        DataInputStream in = new DataInputStream(s.getInputStream());
        out.write(new byte[] {5, 1, 0});
        in.readFully(new byte[2]);
        out.write(new byte[] {5, 3, 0, 1, 0, 0, 0, 0, 0, 0});
        byte[] head = new byte[4];
        in.readFully(head);
        assertEquals(0, head[1], "UDP ASSOCIATE succeeded");
        byte[] addr = new byte[head[3] == 1 ? 4 : 16];
        in.readFully(addr);
        int port = in.readUnsignedShort();
        return new InetSocketAddress(InetAddress.getByAddress(addr), port);
    }

    private static byte[] udpHeader(InetSocketAddress target) {
        byte[] ip = target.getAddress().getAddress();
        byte[] h = new byte[4 + ip.length + 2];
        h[3] = (byte) (ip.length == 4 ? 1 : 4);
        System.arraycopy(ip, 0, h, 4, ip.length);
        h[4 + ip.length] = (byte) (target.getPort() >> 8);
        h[5 + ip.length] = (byte) target.getPort();
        return h;
    }

    @Test
    void udpAssociateCarriesDnsLikeExchangesToIpv4AndIpv6Targets() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        try (Nodes nodes = new Nodes();
             UdpTarget dns4 = new UdpTarget(V4, b -> { b[0] = 'r'; return b; });
             UdpTarget dns6 = new UdpTarget(v6, b -> { b[0] = 'R'; return b; })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + dns4.port())
                    .allowTarget("[::1]:" + dns6.port()));
            SdtClient client = nodes.client(server, b -> b.dynamic("0"));
            InetSocketAddress proxy = client.tunnels().get(0).boundAddress();
            try (Socket control = new Socket(V4, proxy.getPort()); DatagramSocket udp = new DatagramSocket(new InetSocketAddress(V4, 0))) {
                InetSocketAddress relay = associate(control);
                udp.setSoTimeout(500);
                for (UdpTarget t : List.of(dns4, dns6)) {
                    InetSocketAddress target = new InetSocketAddress(t == dns4 ? V4 : v6, t.port());
                    byte[] header = udpHeader(target);
                    for (int q = 0; q < 50; q++) {
                        byte[] query = ("q" + q + "#" + target).getBytes(StandardCharsets.UTF_8);
                        byte[] reply = exchange(udp, relay, header, query);
                        assertArrayEquals(header, Arrays.copyOf(reply, header.length), "the reply names its source");
                        byte[] answer = Arrays.copyOfRange(reply, header.length, reply.length);
                        assertEquals((t == dns4 ? "r" : "R") + new String(query, 1, query.length - 1, StandardCharsets.UTF_8),
                                new String(answer, StandardCharsets.UTF_8));
                    }
                }
                // a fragment is dropped and counted
                byte[] frag = udpHeader(new InetSocketAddress(V4, dns4.port()));
                frag[2] = 1;
                int before = dns4.received();
                udp.send(new DatagramPacket(concat(frag, new byte[] {'x'}), frag.length + 1, relay));
                Await.until("fragment counted", Duration.ofSeconds(5), () -> client.routerStats().fragmentsDropped() == 1);
                assertEquals(before, dns4.received());
            }
            Await.until("association's flows closed on the server", Duration.ofSeconds(5),
                    () -> server.stats().channelsOpen() == 0);
        }
    }

    /** Sends one SOCKS5 UDP datagram and waits for its reply, retrying on loss. */
    private static byte[] exchange(DatagramSocket udp, InetSocketAddress relay, byte[] header, byte[] query) throws IOException {
        byte[] packet = concat(header, query);
        byte[] buf = new byte[2048];
        for (int attempt = 0; attempt < 8; attempt++) {
            udp.send(new DatagramPacket(packet, packet.length, relay));
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                udp.receive(p);
                return Arrays.copyOf(p.getData(), p.getLength());
            } catch (SocketTimeoutException e) {
                // lost: try again
            }
        }
        throw new AssertionError("no reply to " + new String(query, StandardCharsets.UTF_8));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void deniedTargetGetsTheProtocolsRefusalAndIsNeverConnected() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocketChannel forbidden = ServerSocketChannel.open()) {
            forbidden.bind(new InetSocketAddress(V4, 0));
            forbidden.configureBlocking(false);
            InetSocketAddress target = (InetSocketAddress) forbidden.getLocalAddress();
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + httpPort()));
            SdtClient client = nodes.client(server, b -> b.dynamic("0"));
            int proxy = client.tunnels().get(0).boundAddress().getPort();
            try (Socket s = new Socket(V4, proxy)) {
                assertEquals(2, Socks5.request(s, 1, target), "SOCKS5 REP 0x02: not allowed by ruleset");
                assertEquals(-1, s.getInputStream().read(), "the proxy closes after the refusal");
            }
            try (Socket s = new Socket(V4, proxy)) {
                s.getOutputStream().write(("CONNECT 127.0.0.1:" + target.getPort() + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String status = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(status.startsWith("HTTP/1.1 403"), status);
            }
            try (Socket s = new Socket(V4, proxy)) {
                // a name that some resolvers read as 127.0.0.1 is refused too
                s.getOutputStream().write(("CONNECT 2130706433:" + target.getPort() + " HTTP/1.1\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String status = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(status.startsWith("HTTP/1.1 403"), status);
            }
            assertNull(forbidden.accept(), "the forbidden target saw no connection");
            assertEquals(3, server.stats().opensDenied());
        }
    }

    @Test
    void refusedAndUnreachableTargetsMapToSocksCodes() throws Exception {
        try (Nodes nodes = new Nodes(); ServerSocketChannel closed = ServerSocketChannel.open()) {
            closed.bind(new InetSocketAddress(V4, 0));
            int closedPort = ((InetSocketAddress) closed.getLocalAddress()).getPort();
            closed.close();
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.dynamic("0"));
            int proxy = client.tunnels().get(0).boundAddress().getPort();
            try (Socket s = new Socket(V4, proxy)) {
                assertEquals(5, Socks5.request(s, 1, new InetSocketAddress(V4, closedPort)), "REP 0x05: connection refused");
            }
        }
    }

    @Test
    void malformedCustomersAreRefusedAndTheLinkCarriesOn() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + httpPort()));
            SdtClient client = nodes.client(server, b -> b.dynamic("0,max=4"));
            int proxy = client.tunnels().get(0).boundAddress().getPort();
            byte[][] bad = {
                {5, 1, 0, 5, 1, 0, 5, 0, 0}, // bad address type 0x05 after a good greeting
                {5, 1, 0, 4, 1, 0, 0},       // wrong version in the request
                {5, 1, 0, 5, 9, 0, 1, 127, 0, 0, 1, 0, 80}, // unknown command 0x09
                {(byte) 0xFF, 1, 2},          // unknown protocol
                "GET http://127.0.0.1/ HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                ("CONNECT 127.0.0.1:80 HTTP/1.1\r\nX: " + "a".repeat(9000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII),
            };
            for (byte[] input : bad) {
                try (Socket s = new Socket(V4, proxy)) {
                    s.setSoTimeout(5000);
                    s.getOutputStream().write(input);
                    InputStream in = s.getInputStream();
                    in.readAllBytes(); // whatever refusal the protocol has, then the close
                }
            }
            try (Socket s = new Socket(V4, proxy)) {
                s.getOutputStream().write(new byte[] {5, 1, 0});
                // truncated: never finishes; closing it must give back its max= slot
            }
            Await.until("refusals counted", Duration.ofSeconds(5), () -> client.routerStats().malformedRequests()
                    + client.routerStats().unsupportedCommands() >= bad.length);
            Await.until("every slot given back", Duration.ofSeconds(5), () -> client.tunnels().get(0).activeChannels() == 0);
            // the link and the listener still work, within max=4
            assertArrayEquals(body, runCurl("--socks5", "127.0.0.1:" + proxy, "http://127.0.0.1:" + httpPort() + "/blob"));
            assertEquals(0, server.stats().protocolErrors());
        }
    }

    @Test
    void usernameAndPasswordAreRequiredWhenConfigured() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + httpPort()));
            SdtClient client = nodes.client(server, b -> b.dynamic("0").proxyAuth(ProxyAuth.of("alice", "s3cret")));
            String p = "127.0.0.1:" + client.tunnels().get(0).boundAddress().getPort();
            String url = "http://127.0.0.1:" + httpPort() + "/blob";
            assertArrayEquals(body, runCurl("--socks5", p, "--proxy-user", "alice:s3cret", url));
            assertArrayEquals(body, runCurl("-p", "-x", "http://" + p, "--proxy-user", "alice:s3cret", url));
            try (Socket s = new Socket(V4, client.tunnels().get(0).boundAddress().getPort())) {
                s.getOutputStream().write(new byte[] {5, 1, 0});
                byte[] reply = s.getInputStream().readNBytes(2);
                assertArrayEquals(new byte[] {5, (byte) 0xFF}, reply, "no acceptable method without credentials");
            }
            Await.until("auth failure counted", Duration.ofSeconds(5), () -> client.routerStats().authFailures() == 1);
        }
    }
}
