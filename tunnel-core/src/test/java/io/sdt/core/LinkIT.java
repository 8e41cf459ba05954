package io.sdt.core;

import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.BlackholeRelay;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Pki;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The link itself: heartbeat and dead-link detection, and TLS with CA files (mutual TLS). */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LinkIT {

    @TempDir
    Path dir;

    private static void ping(InetSocketAddress at, int value) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(value);
            assertEquals(value, s.getInputStream().read());
        }
    }

    @Test
    void silentlyDeadLinkIsDetectedByHeartbeatAndTheClientReconnects() throws Exception {
        LinkSettings fast = LinkSettings.defaults().withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1200));
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.settings(fast).allowTarget("127.0.0.1:*"));
            try (BlackholeRelay path = new BlackholeRelay(server.address())) {
                SdtClient client = nodes.client(path.port(), b -> b.settings(fast)
                        .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()), true);
                InetSocketAddress local = client.tunnels().get(0).boundAddress();
                ping(local, 1);
                path.blackholeExisting();
                // no FIN, no RST: only the missing heartbeat replies tell both ends the link is dead
                Await.until("client reconnects over a fresh path", Duration.ofSeconds(20),
                        () -> client.stats().linksEstablished() == 2 && client.isUp());
                ping(local, 2);
                Await.until("server drops the dead link", Duration.ofSeconds(10), () -> server.stats().linksUp() == 1);
                assertEquals(2, server.stats().linksEstablished());
            }
        }
    }

    @Test
    void mutualTlsWithCaFiles() throws Exception {
        Pki pki = new Pki(dir, "good");
        Pki other = new Pki(dir, "other");
        Path[] serverCert = pki.issue("server");
        Path[] clientCert = pki.issue("client");
        Path[] strangerCert = other.issue("client");
        Path ca = pki.caFile();
        Path otherCa = other.caFile();
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:*")
                    .tls(new TlsSetup.ServerOptions(serverCert[0], serverCert[1], ca)));
            int port = server.address().getPort();

            SdtClient good = nodes.client(port, b -> b.tls(new TlsSetup.ClientOptions(ca, clientCert[0], clientCert[1]))
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()), true);
            ping(good.tunnels().get(0).boundAddress(), 7);

            // no client certificate: the server refuses the TLS handshake
            SdtClient anonymous = nodes.client(port, b -> b.tls(new TlsSetup.ClientOptions(ca, null, null)), false);
            // a certificate from another CA: refused as well
            SdtClient stranger = nodes.client(port, b -> b.tls(
                    new TlsSetup.ClientOptions(ca, strangerCert[0], strangerCert[1])), false);
            // the client does not trust a server certificate from a CA it was not given
            SdtClient distrustful = nodes.client(port, b -> b.tls(
                    new TlsSetup.ClientOptions(otherCa, clientCert[0], clientCert[1])), false);
            Await.until("three refused handshakes", Duration.ofSeconds(15), () -> server.stats().handshakeFailures() >= 3);
            assertFalse(anonymous.isUp());
            assertFalse(stranger.isUp());
            assertFalse(distrustful.isUp());
            Await.until("the distrustful client rejects the server certificate", Duration.ofSeconds(10),
                    () -> distrustful.stats().handshakeFailures() >= 1);
            assertEquals(1, server.stats().linksEstablished());
        }
    }
}
