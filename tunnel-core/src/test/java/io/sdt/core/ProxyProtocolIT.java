package io.sdt.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LogCapture;
import io.sdt.core.testing.Loopback;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server behind a load balancer that speaks the PROXY protocol ({@code --accept-proxy-protocol}): the
 * balancer here is a relay in this test that puts a v2 (or v1) header naming a made-up client first. From
 * a listed network the link's peer, and so the audit line, is that client; a header from an address not
 * listed is refused, and so is a listed balancer's connection without one. And the other way: a tunnel with
 * {@code ,proxy-protocol} tells its target the customer in a v2 header, for -L and -R.
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
                    Loopback.echo(client.tunnels().get(0).boundAddress(), 64 * 1024, port);
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

    @Test
    void aTunnelWithProxyProtocolTellsItsTargetTheCustomerInBothDirections() throws Exception {
        List<HAProxyMessage> seen = new CopyOnWriteArrayList<>();
        try (Nodes nodes = new Nodes(); Targets target = new Targets(socket -> {
            // the target parses the header with Netty's decoder, then echoes the stream after it
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] head = new byte[16];
            in.readFully(head);
            byte[] rest = new byte[((head[14] & 0xFF) << 8) | (head[15] & 0xFF)];
            in.readFully(rest);
            EmbeddedChannel decoder = new EmbeddedChannel(new HAProxyMessageDecoder());
            try {
                decoder.writeInbound(Unpooled.wrappedBuffer(head, rest));
            } catch (RuntimeException notAHeader) {
                // the decoder's verdict on bytes that are no PROXY header; nothing was decoded
            }
            seen.add(decoder.readInbound());
            decoder.finishAndReleaseAll();
            in.transferTo(socket.getOutputStream());
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()).allowBind("127.0.0.1:*"));
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + target.port() + ",proxy-protocol")
                    .forward(Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + target.port() + ",proxy-protocol")
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + target.port()));
            InetSocketAddress remote = client.tunnels().get(1).awaitBound(Duration.ofSeconds(10));
            for (InetSocketAddress at : List.of(client.tunnels().get(0).boundAddress(), remote)) {
                try (Socket customer = new Socket()) {
                    customer.connect(at, 5000);
                    customer.setSoTimeout(20_000);
                    byte[] sent = Payloads.write(customer.getOutputStream(), 64 * 1024, at.getPort());
                    customer.shutdownOutput();
                    assertArrayEquals(sent, Payloads.readAll(customer.getInputStream(), new long[1]),
                            "the stream after the header is intact");
                    HAProxyMessage m = seen.getLast();
                    assertEquals(HAProxyProtocolVersion.V2, m.protocolVersion());
                    assertEquals(HAProxyProxiedProtocol.TCP4, m.proxiedProtocol());
                    assertEquals("127.0.0.1", m.sourceAddress());
                    assertEquals(customer.getLocalPort(), m.sourcePort(), "the customer's own port: " + at);
                    assertEquals(target.port(), m.destinationPort());
                    m.release();
                }
            }
            // a tunnel without the option sends no header: the target would take the stream's start for one
            assertEquals(2, seen.size());
            try (Socket plain = new Socket()) {
                plain.connect(client.tunnels().get(2).boundAddress(), 5000);
                plain.setSoTimeout(5000);
                plain.getOutputStream().write(new byte[16]); // 16 zero bytes: the target's "header" of length 0
                Await.until("the target read them as a header", Duration.ofSeconds(5), () -> seen.size() == 3);
                assertNull(seen.getLast(), "no PROXY header was there: the decoder found none");
            }
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
