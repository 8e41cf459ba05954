package io.sdt.core;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LogCapture;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server behind a load balancer that speaks the PROXY protocol ({@code --accept-proxy-protocol}): the
 * balancer here is a relay in this test that puts a v2 (or v1) header naming a made-up client first. From
 * a listed network the link's peer, and so the audit line, is that client; a header from an address not
 * listed is refused, and so is a listed balancer's connection without one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyProtocolIT {

    private static final String CLIENT = "203.0.113.7";

    @Test
    void fromAListedBalancerTheAuditLineNamesTheRealClient() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo();
                LogCapture audit = LogCapture.of(AuditLog.LOGGER)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port())
                    .acceptProxyProtocol("127.0.0.0/8"));
            for (HAProxyProtocolVersion version : HAProxyProtocolVersion.values()) {
                int port = version == HAProxyProtocolVersion.V2 ? 5555 : 5556;
                try (Balancer lb = new Balancer(server.address().getPort(), header(version, port))) {
                    SdtClient client = nodes.client(lb.port(), b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + echo.port()),
                            true);
                    roundTrip(client.tunnels().get(0).boundAddress(), port);
                    Await.until("the audit line", Duration.ofSeconds(5),
                            () -> audit.lines().stream().anyMatch(l -> l.contains(CLIENT + ":" + port)));
                    client.close();
                }
            }
        }
    }

    @Test
    void aHeaderFromAnAddressNotListedIsRefused() throws Exception {
        try (Nodes nodes = new Nodes(); LogCapture server = LogCapture.of(LinkPipelines.class.getName())) {
            SdtServer s = nodes.server(b -> b.acceptProxyProtocol("10.0.0.0/8"));
            try (Balancer lb = new Balancer(s.address().getPort(), header(HAProxyProtocolVersion.V2, 5555))) {
                SdtClient client = nodes.client(lb.port(), b -> { }, false);
                Await.until("the refusal", Duration.ofSeconds(10), () -> server.lines().stream()
                        .anyMatch(l -> l.contains("sent a PROXY protocol header, and --accept-proxy-protocol does not list it")));
                assertFalse(client.isUp());
                assertTrue(s.stats().handshakeFailures() >= 1);
            }
        }
    }

    @Test
    void aListedBalancersConnectionWithoutAHeaderIsRefused() throws Exception {
        try (Nodes nodes = new Nodes(); LogCapture server = LogCapture.of(LinkPipelines.class.getName())) {
            SdtServer s = nodes.server(b -> b.acceptProxyProtocol("127.0.0.1/32"));
            SdtClient client = nodes.client(s.address().getPort(), b -> { }, false); // straight in: no header
            Await.until("the refusal", Duration.ofSeconds(10), () -> server.lines().stream()
                    .anyMatch(l -> l.contains("sent no valid PROXY header")));
            assertFalse(client.isUp());
        }
    }

    private static byte[] header(HAProxyProtocolVersion version, int sourcePort) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(new HAProxyMessage(version, HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP4, CLIENT,
                "127.0.0.1", sourcePort, 7000));
        ByteBuf b = ch.readOutbound();
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        ch.finishAndReleaseAll();
        if (version == HAProxyProtocolVersion.V1) {
            assertTrue(new String(bytes, StandardCharsets.US_ASCII).startsWith("PROXY TCP4 " + CLIENT));
        }
        return bytes;
    }

    private static void roundTrip(InetSocketAddress at, long seed) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(20_000);
            byte[] sent = Payloads.write(s.getOutputStream(), 64 * 1024, seed);
            s.shutdownOutput();
            long[] n = new long[1];
            assertArrayEquals(sent, Payloads.readAll(s.getInputStream(), n));
        }
    }

    /** A load balancer: relays each connection to the server, with {@code header} first. */
    private static final class Balancer implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

        Balancer(int serverPort, byte[] header) throws IOException {
            threads.execute(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket in = listener.accept();
                        Socket out = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                        out.getOutputStream().write(header);
                        threads.execute(() -> pump(in, out));
                        threads.execute(() -> pump(out, in));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        private static void pump(Socket from, Socket to) {
            byte[] buf = new byte[16384];
            try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                int n;
                while ((n = i.read(buf)) > 0) {
                    o.write(buf, 0, n);
                }
            } catch (IOException e) {
                // one side went away
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            threads.shutdownNow();
        }
    }
}
