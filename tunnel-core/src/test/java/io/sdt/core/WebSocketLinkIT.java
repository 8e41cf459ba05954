package io.sdt.core;

import io.sdt.core.link.TlsSetup;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LogCapture;
import io.sdt.core.testing.Loopback;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Pki;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The link over WebSocket: {@code ws://} straight to the server's link port (raw links keep working on the
 * same port), {@code wss://} through a real nginx (Debian package, started here on loopback with a
 * certificate from a throw-away CA) that terminates TLS and forwards the upgrade; -L and -R carry data
 * intact through both. Bad input: an upgrade to another path gets 404, an HTTP request that is no upgrade
 * gets 400, and a client pointed at the wrong path fails with the server's answer in its log.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebSocketLinkIT {

    private static final String NGINX = "/usr/sbin/nginx";

    @TempDir
    Path dir;
    private Process nginx;

    @AfterEach
    void stopNginx() throws InterruptedException {
        if (nginx != null) {
            nginx.destroy();
            if (!nginx.waitFor(5, TimeUnit.SECONDS)) {
                nginx.destroyForcibly();
            }
        }
    }

    @Test
    void wsStraightToTheServerBesideRawLinks() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()).allowBind("127.0.0.1:*")
                    .webSocketPath("/tunnel"));
            int port = server.address().getPort();
            SdtClient ws = nodes.client(port, b -> b.webSocket("ws://127.0.0.1:" + port + "/tunnel")
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()), true);
            Loopback.echo(ws.tunnels().get(0).boundAddress(), 256 * 1024, 1);
            InetSocketAddress remote = ws.tunnels().get(1).awaitBound(Duration.ofSeconds(10));
            assertNotNull(remote);
            Loopback.echo(remote, 256 * 1024, 2);
            SdtClient raw = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()));
            Loopback.echo(raw.tunnels().get(0).boundAddress(), 256 * 1024, 3);
            assertTrue(server.linkCount() == 2, "a WebSocket link and a raw one on one port");
        }
    }

    @Test
    void wssThroughNginxAsATlsTerminatingReverseProxy() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(NGINX)), "nginx is not installed (apt-get install nginx-light)");
        Pki pki = new Pki(dir, "nginx");
        Path[] cert = pki.issue("nginx");
        Path ca = pki.caFile();
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port()).allowBind("127.0.0.1:*")
                    .webSocketPath("/tunnel"));
            int front = Loopback.freePort();
            Files.createDirectories(dir.resolve("tmp"));
            Path conf = Files.writeString(dir.resolve("nginx.conf"), """
                    daemon off;
                    master_process off;
                    worker_processes 1;
                    pid %1$s/nginx.pid;
                    error_log %1$s/error.log info;
                    events { worker_connections 64; }
                    http {
                        access_log %1$s/access.log;
                        client_body_temp_path %1$s/tmp; proxy_temp_path %1$s/tmp; fastcgi_temp_path %1$s/tmp;
                        uwsgi_temp_path %1$s/tmp; scgi_temp_path %1$s/tmp;
                        server {
                            listen 127.0.0.1:%2$d ssl;
                            ssl_certificate %3$s;
                            ssl_certificate_key %4$s;
                            location /tunnel {
                                proxy_pass http://127.0.0.1:%5$d;
                                proxy_http_version 1.1;
                                proxy_set_header Upgrade $http_upgrade;
                                proxy_set_header Connection "upgrade";
                                proxy_read_timeout 1h;
                            }
                        }
                    }
                    """.formatted(dir, front, cert[0], cert[1], server.address().getPort()));
            nginx = new ProcessBuilder(NGINX, "-p", dir.toString(), "-c", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("nginx.out").toFile()).start();
            Await.until("nginx listening", Duration.ofSeconds(10), () -> Loopback.accepts(front));
            SdtClient client = nodes.client(front, b -> b.webSocket("wss://127.0.0.1:" + front + "/tunnel")
                    .tls(new TlsSetup.ClientOptions(null, null, null, ca))
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()), true);
            Loopback.echo(client.tunnels().get(0).boundAddress(), 256 * 1024, 4);
            InetSocketAddress remote = client.tunnels().get(1).awaitBound(Duration.ofSeconds(10));
            assertNotNull(remote);
            Loopback.echo(remote, 256 * 1024, 5);
            client.close(); // nginx logs a WebSocket request when it ends
            Await.until("nginx's access log", Duration.ofSeconds(10),
                    () -> Loopback.read(dir.resolve("access.log")).contains("\"GET /tunnel HTTP/1.1\" 101"));
        }
    }

    @Test
    void httpThatIsNotTheUpgradeIsAnsweredAndAClientAtTheWrongPathIsTold() throws Exception {
        try (Nodes nodes = new Nodes(); LogCapture dialer = LogCapture.of(Dialer.class.getName());
                LogCapture refusals = LogCapture.of(io.sdt.core.link.LinkPipelines.class.getName())) {
            SdtServer server = nodes.server(b -> b.webSocketPath("/tunnel"));
            int port = server.address().getPort();
            String wrongPath = http(port, "GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            assertTrue(wrongPath.startsWith("HTTP/1.1 404"), wrongPath + refusals.lines());
            String notAnUpgrade = http(port, "GET /tunnel HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(notAnUpgrade.startsWith("HTTP/1.1 400"), notAnUpgrade);
            SdtClient lost = nodes.client(port, b -> b.webSocket("ws://127.0.0.1:" + port + "/nowhere"), false);
            Await.until("a refused upgrade, retried", Duration.ofSeconds(20), () -> lost.stats().linkDials() >= 2);
            assertFalse(lost.isUp());
            String line = dialer.lines().stream().filter(l -> l.startsWith("cannot reach")).findFirst().orElse("");
            assertTrue(line.contains("ws://127.0.0.1:" + port + "/nowhere") && line.contains("404"), dialer.lines().toString());
        }
    }

    /** Sends {@code request} to the link port as plain HTTP and returns what comes back until the server closes. */
    private static String http(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

}
