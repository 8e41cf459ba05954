package io.sdt.core;

import io.sdt.core.policy.AuditLog;
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

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two stateless servers behind a real HAProxy (Debian package, started here on loopback) in TCP mode with
 * PROXY v2 to both and health checks: the client dials HAProxy; its link lands on one server, whose audit
 * line shows the client through the balancer; that server dies, the client's link comes back through
 * HAProxy on the other one and -L works again; the dead server restarts and takes the next client
 * (least connections). deploy/README.md describes this deployment.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BalancedFleetIT {

    private static final String HAPROXY = "/usr/sbin/haproxy";

    @TempDir
    Path dir;
    private Process haproxy;

    @AfterEach
    void stopHaproxy() throws InterruptedException {
        if (haproxy != null) {
            haproxy.destroy();
            if (!haproxy.waitFor(5, TimeUnit.SECONDS)) {
                haproxy.destroyForcibly();
            }
        }
    }

    @Test
    void aServerDiesAndItsClientsComeBackThroughTheBalancerOnTheOther() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(HAPROXY)), "haproxy is not installed (apt-get install haproxy)");
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo(); LogCapture audit = LogCapture.of(AuditLog.LOGGER)) {
            SdtServer[] servers = {server(nodes, echo, 0), server(nodes, echo, 0)};
            int[] ports = {servers[0].address().getPort(), servers[1].address().getPort()};
            int front = Loopback.freePort();
            Path log = dir.resolve("haproxy.log");
            Path conf = Files.writeString(dir.resolve("haproxy.cfg"), """
                    global
                        maxconn 200
                    defaults
                        mode tcp
                        timeout connect 2s
                        timeout client 60s
                        timeout server 60s
                        retries 3
                        option redispatch
                    frontend sdt
                        bind 127.0.0.1:%d
                        default_backend fleet
                    backend fleet
                        balance leastconn
                        server a 127.0.0.1:%d send-proxy-v2 check check-send-proxy inter 300ms fall 1 rise 1
                        server b 127.0.0.1:%d send-proxy-v2 check check-send-proxy inter 300ms fall 1 rise 1
                    """.formatted(front, ports[0], ports[1]));
            haproxy = new ProcessBuilder(HAPROXY, "-db", "-f", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            Await.until("haproxy listening", Duration.ofSeconds(10), () -> Loopback.accepts(front));

            SdtClient first = nodes.client(front, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()), true);
            InetSocketAddress local = first.tunnels().get(0).boundAddress();
            Loopback.echo(local, 16 * 1024, 1);
            int on = servers[0].linkCount() == 1 ? 0 : 1;
            assertEquals(1, servers[on].linkCount() + servers[1 - on].linkCount(), "one link, on one server");
            Await.until("the audit line", Duration.ofSeconds(5),
                    () -> audit.lines().stream().anyMatch(l -> l.matches(".*link-\\d+ /127\\.0\\.0\\.1:\\d+ via /127\\.0\\.0\\.1:.*")));

            servers[on].close(); // the client's server dies
            int other = 1 - on;
            Await.until("the client's link back, through the balancer, on the other server", Duration.ofSeconds(20),
                    () -> first.isUp() && servers[other].linkCount() == 1);
            Loopback.echo(local, 16 * 1024, 8); // and the first connection through -L after that works
            assertEquals(1, servers[1 - on].linkCount(), "the link is on the other server now");

            // the dead one comes back on its port; HAProxy's check finds it, and the next client gets it
            String name = on == 0 ? "fleet/a" : "fleet/b";
            Await.until(name + " seen down", Duration.ofSeconds(20), () -> Loopback.read(log).contains("Server " + name + " is DOWN"));
            servers[on] = SdtServer.builder().listen("127.0.0.1", ports[on]).token(nodes.token)
                    .allowTarget("127.0.0.1:" + echo.port()).acceptProxyProtocol("127.0.0.1/32").build().start();
            Await.until(name + " up again", Duration.ofSeconds(20), () -> Loopback.read(log).contains("Server " + name + " is UP"));
            SdtClient second = nodes.client(front, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()), true);
            Loopback.echo(second.tunnels().get(0).boundAddress(), 16 * 1024, 7);
            assertEquals(1, servers[on].linkCount(), "least connections: the restarted server takes the new client");
            servers[on].close();
        }
    }

    private static SdtServer server(Nodes nodes, Targets echo, int port) throws Exception {
        return nodes.server(b -> b.listen("127.0.0.1", port).allowTarget("127.0.0.1:" + echo.port())
                .acceptProxyProtocol("127.0.0.1/32"));
    }

}
