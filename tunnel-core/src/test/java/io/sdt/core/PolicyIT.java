package io.sdt.core;

import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Server policy: targets and binds outside the allow rules are refused, with a clear message on the client. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PolicyIT {

    @Test
    void targetOutsideTheRulesIsRefusedAndNeverContacted() throws Exception {
        try (Nodes nodes = new Nodes(); Targets allowed = Targets.echo(); Targets forbidden = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + allowed.port()));
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + forbidden.port())
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + allowed.port()));
            Tunnel denied = client.tunnels().get(0);
            try (Socket s = new Socket()) {
                s.connect(denied.boundAddress(), 5000);
                s.setSoTimeout(5000);
                assertEquals(-1, s.getInputStream().read(), "denied: connection closed");
            }
            assertNotNull(denied.lastError());
            assertTrue(denied.lastError().contains("not allowed by the server's policy (--allow-target)"), denied.lastError());
            assertEquals(0, forbidden.accepted(), "the forbidden target saw no connection");
            assertEquals(1, server.stats().opensDenied());
            try (Socket s = new Socket()) {
                s.connect(client.tunnels().get(1).boundAddress(), 5000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(42);
                assertEquals(42, s.getInputStream().read(), "the allowed target works on the same link");
            }
            assertEquals(1, allowed.accepted());
        }
    }

    @Test
    void bindOutsideTheRulesIsRefusedWithAClearMessage() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("*").allowBind("127.0.0.1:40000-40010"));
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            Tunnel t = client.tunnels().get(0);
            assertNull(t.awaitBound(Duration.ofSeconds(10)));
            assertTrue(t.lastError().contains("not allowed by the server's policy (--allow-bind)"), t.lastError());
            assertTrue(client.isUp(), "a refused bind does not take the link down");
        }
    }

    @Test
    void serverWithoutRulesDeniesEverything() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> { });
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            assertNull(client.tunnels().get(1).awaitBound(Duration.ofSeconds(10)));
            try (Socket s = new Socket()) {
                s.connect(client.tunnels().get(0).boundAddress(), 5000);
                s.setSoTimeout(5000);
                assertEquals(-1, s.getInputStream().read());
            }
            Await.until("denials counted", Duration.ofSeconds(5), () -> server.stats().opensDenied() == 2);
            assertEquals(0, echo.accepted());
        }
    }
}
