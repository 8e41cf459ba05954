package io.sdt.core;

import io.sdt.core.link.AuthException;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.Token;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.TrustAll;
import io.sdt.core.testing.TlsRelay;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Link authentication and admission: wrong tokens, a relaying man in the middle, slow and bad peers. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthIT {

    private static Throwable fatal(SdtClient client) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> client.fatalFailure().get(15, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void wrongTokenIsRejectedOnBothSidesAndNothingIsBound() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowTarget("*").allowBind("*"));
            SdtClient client = nodes.client(server.address().getPort(), b -> b.token(Token.generate())
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:9"), false);
            Throwable cause = fatal(client);
            assertInstanceOf(AuthException.class, cause);
            assertTrue(cause.getMessage().contains("could not prove it knows the token"), cause.getMessage());
            Await.until("server counts the failure", Duration.ofSeconds(5), () -> server.stats().authFailures() == 1);
            assertEquals(0, server.linkCount());
            assertEquals(0, server.stats().linksEstablished());
            assertNull(client.tunnels().get(0).boundAddress());
            assertTrue(!client.isUp());
        }
    }

    @Test
    void relayingManInTheMiddleCannotAuthenticate() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.allowTarget("*").allowBind("*"));
            try (TlsRelay mitm = new TlsRelay(server.address())) {
                SdtClient client = nodes.client(mitm.port(), b -> b.forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:9"), false);
                Throwable cause = fatal(client);
                assertInstanceOf(AuthException.class, cause);
                assertTrue(cause.getMessage().contains("man in the middle"), cause.getMessage());
                // the relay did carry the exchange, and the server rejected the relayed client proof
                Await.until("server rejects the relayed proof", Duration.ofSeconds(5),
                        () -> server.stats().authFailures() == 1);
                assertTrue(mitm.relayedBytes() > 0, "the relay saw the handshake frames");
                assertEquals(0, server.stats().linksEstablished());
                assertNull(client.tunnels().get(0).boundAddress());
            }
        }
    }

    /** A connection from {@code 127.0.0.<host>} to {@code at}. */
    private static Socket connectFrom(int host, InetSocketAddress at) throws Exception {
        Socket s = new Socket();
        s.bind(new InetSocketAddress("127.0.0." + host, 0));
        s.connect(at, 5000);
        return s;
    }

    @Test
    void aFullWaitingRoomDropsTheOldestSilentConnectionAndSilenceTimesOut() throws Exception {
        // room of 2; the first-byte deadline is min(3 s, handshake timeout) = 1.5 s
        LinkSettings settings = LinkSettings.defaults().withHandshakeTimeout(Duration.ofMillis(1500), 2);
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.settings(settings));
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", server.address().getPort());
            try (Socket a = connectFrom(2, at); Socket b = connectFrom(3, at)) {
                Await.until("two pending handshakes", Duration.ofSeconds(5), () -> server.pendingHandshakes() == 2);
                try (Socket c = connectFrom(4, at)) {
                    a.setSoTimeout(1000);
                    assertEquals(-1, a.getInputStream().read(), "the oldest silent connection made room for the third");
                    b.setSoTimeout(100);
                    assertThrows(SocketTimeoutException.class, () -> b.getInputStream().read(), "the second still waits");
                    b.setSoTimeout(10_000);
                    c.setSoTimeout(10_000);
                    assertEquals(-1, b.getInputStream().read(), "closed: nothing sent within the first-byte deadline");
                    assertEquals(-1, c.getInputStream().read(), "closed: nothing sent within the first-byte deadline");
                }
            }
            Await.until("places released", Duration.ofSeconds(5), () -> server.pendingHandshakes() == 0);
            assertEquals(1, server.stats().handshakesDropped());
            assertTrue(server.stats().handshakeFailures() >= 3);
        }
    }

    @Test
    void oneSourceHoldsAtMostAQuarterOfTheWaitingRoom() throws Exception {
        LinkSettings settings = LinkSettings.defaults().withHandshakeTimeout(Duration.ofSeconds(10), 8);
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> b.settings(settings));
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", server.address().getPort());
            try (Socket a = connectFrom(2, at); Socket b = connectFrom(2, at)) {
                Await.until("two pending handshakes", Duration.ofSeconds(2), () -> server.pendingHandshakes() == 2);
                try (Socket c = connectFrom(2, at)) {
                    c.setSoTimeout(1000); // well inside the 3 s first-byte deadline of the other two
                    assertEquals(-1, c.getInputStream().read(), "a third from the same source is refused (8 / 4 = 2)");
                }
                assertEquals(2, server.pendingHandshakes());
                SdtClient client = nodes.client(server, cfg -> { }); // from 127.0.0.1: asserts the link comes up
                assertEquals(1, client.stats().linkDials(), "in on its first dial");
            }
            assertEquals(1, server.stats().handshakesDropped());
        }
    }

    @Test
    void garbageInsteadOfHelloClosesTheConnection() throws Exception {
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(b -> { });
            SSLContext ctx = TrustAll.tls13();
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", server.address().getPort())) {
                SSLParameters p = s.getSSLParameters();
                p.setApplicationProtocols(new String[] {TlsSetup.ALPN});
                s.setSSLParameters(p);
                s.setSoTimeout(5000);
                s.startHandshake();
                // a frame of unknown type 0x7f
                s.getOutputStream().write(new byte[] {0x02, 0x7f, 0x00});
                s.getOutputStream().flush();
                assertEquals(-1, s.getInputStream().read(), "server closed the connection");
            }
            Await.until("protocol error counted", Duration.ofSeconds(5), () -> server.stats().protocolErrors() == 1);
            Await.until("slot released", Duration.ofSeconds(5), () -> server.pendingHandshakes() == 0);
            assertEquals(0, server.stats().linksEstablished());
        }
    }
}
