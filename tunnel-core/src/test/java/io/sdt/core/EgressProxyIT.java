package io.sdt.core;

import io.sdt.core.link.EgressProxy;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LogCapture;
import io.sdt.core.testing.Loopback;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The client dials its server through an egress proxy ({@code --proxy}): a real tinyproxy (Debian package,
 * started here on loopback) taking HTTP CONNECT, with and without Basic credentials, and a SOCKS5 proxy
 * that is sdt's own {@code -D} of a second pair. -L and -R carry data intact through each, the proxy's own
 * log shows the CONNECT, and a proxy that refuses (wrong credentials) is an error naming the proxy and its
 * answer, retried.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EgressProxyIT {

    private static final String TINYPROXY = "/usr/bin/tinyproxy";

    @TempDir
    Path dir;
    private Process tinyproxy;

    @AfterEach
    void stopTheProxy() throws InterruptedException {
        if (tinyproxy != null) {
            tinyproxy.destroy();
            if (!tinyproxy.waitFor(5, TimeUnit.SECONDS)) {
                tinyproxy.destroyForcibly();
            }
        }
    }

    /** A tinyproxy on 127.0.0.1 (its port), with Basic credentials alice:s3cret if {@code auth}. */
    private int tinyproxy(boolean auth) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(TINYPROXY)), "tinyproxy is not installed (apt-get install tinyproxy)");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path conf = Files.writeString(dir.resolve("tinyproxy.conf"), "Port " + port + "\nListen 127.0.0.1\n"
                + "Timeout 60\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Info\n"
                + (auth ? "BasicAuth alice s3cret\n" : ""));
        tinyproxy = new ProcessBuilder(TINYPROXY, "-d", "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("tinyproxy.log").toFile()).start();
        int p = port;
        Await.until("tinyproxy listening", Duration.ofSeconds(10), () -> Loopback.accepts(p));
        return port;
    }

    private String proxyLog() throws IOException {
        return Files.readString(dir.resolve("tinyproxy.log"));
    }

    @Test
    void forwardsInBothDirectionsThroughAnHttpConnectProxy() throws Exception {
        int proxy = tinyproxy(false);
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()).allowBind("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b.proxy(EgressProxy.parse("http://127.0.0.1:" + proxy))
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            Loopback.echo(client.tunnels().get(0).boundAddress(), 256 * 1024, 1);
            InetSocketAddress remote = client.tunnels().get(1).awaitBound(Duration.ofSeconds(10));
            assertNotNull(remote, "the -R listener is bound on the server");
            Loopback.echo(remote, 256 * 1024, 2);
            assertTrue(proxyLog().contains("CONNECT 127.0.0.1:" + server.address().getPort()),
                    "the link went through the proxy:\n" + proxyLog());
        }
    }

    @Test
    void credentialsThatTheProxyTakesAndOnesItRefuses() throws Exception {
        int proxy = tinyproxy(true);
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo();
                LogCapture dialer = LogCapture.of(Dialer.class.getName())) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            // by name: the proxy is looked up off the event loop on each dial
            SdtClient good = nodes.client(server, b -> b.proxy(EgressProxy.parse("http://alice:s3cret@localhost:" + proxy))
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            Loopback.echo(good.tunnels().get(0).boundAddress(), 256 * 1024, 3);

            SdtClient bad = nodes.client(server.address().getPort(), b -> b
                    .proxy(EgressProxy.parse("http://alice:wrong@127.0.0.1:" + proxy)), false);
            Await.until("two refused attempts", Duration.ofSeconds(20), () -> bad.stats().linkDials() >= 2);
            assertFalse(bad.isUp());
            String refusal = dialer.lines().stream().filter(l -> l.startsWith("cannot reach")).findFirst().orElse("");
            // tinyproxy answers a CONNECT with wrong credentials 401 (RFC 9110 says 407); either is the proxy's word
            assertTrue(refusal.contains("through the proxy http://alice:***@127.0.0.1:" + proxy)
                    && refusal.matches(".*status: 40[17] .*"), "names the proxy (not the password) and its answer: "
                    + dialer.lines());
            assertFalse(String.join("\n", dialer.lines()).contains("wrong"), "the password is never logged");
        }
    }

    @Test
    void forwardsThroughASocks5ProxyThatIsAnotherPairsDynamicForward() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()));
            // the second pair: its -D is the SOCKS5 proxy; its server may reach only the first server
            SdtServer exit = nodes.server(b -> b.allowTarget("127.0.0.1:" + server.address().getPort()));
            SdtClient socks = nodes.client(exit, b -> b.dynamic("127.0.0.1:0"));
            int socksPort = socks.tunnels().get(0).boundAddress().getPort();
            SdtClient client = nodes.client(server, b -> b.proxy(EgressProxy.parse("socks5://127.0.0.1:" + socksPort))
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            Loopback.echo(client.tunnels().get(0).boundAddress(), 256 * 1024, 4);
            assertTrue(exit.stats().channelsOpened() >= 1, "the link's connection left through the second pair");
        }
    }

}
