package io.sdt.core;

import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client with several servers ({@code --server} repeated) and several links to one ({@code --links}): where
 * new channels go, that every server listens for {@code -R}, and what happens when one server goes and comes back.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SeveralServersIT {

    private static final Duration WAIT = Duration.ofSeconds(15);

    private static SdtServerHolder server(Nodes nodes, int port, Targets echo, int udpEcho) throws Exception {
        return new SdtServerHolder(nodes.server(b -> b.listen("127.0.0.1", port).allowTarget("127.0.0.1:" + echo.port())
                .allowTarget("127.0.0.1:" + udpEcho).allowBind("127.0.0.1:*")));
    }

    private record SdtServerHolder(SdtServer server) {
        int port() {
            return server.address().getPort();
        }

        long open() {
            return server.stats().channelsOpen();
        }
    }

    /** A connection through the tunnel that has done one echo round trip (so its channel is open at both ends). */
    private static Socket echoed(InetSocketAddress at, String text) throws IOException {
        Socket s = new Socket(at.getAddress(), at.getPort());
        s.setSoTimeout(10_000);
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(b);
        assertArrayEquals(b, s.getInputStream().readNBytes(b.length), "echo through " + at);
        return s;
    }

    private static boolean echoes(Socket s) {
        try {
            s.getOutputStream().write('x');
            return s.getInputStream().read() == 'x';
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void newChannelsGoToTheLinkWithFewestAndEveryServerListensForRemoteTunnels() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo();
             UdpTarget udpEcho = UdpTarget.echo(InetAddress.getLoopbackAddress())) {
            SdtServerHolder a = server(nodes, 0, echo, udpEcho.port());
            SdtServerHolder b = server(nodes, 0, echo, udpEcho.port());
            SdtClient client = nodes.client(a.server(), c -> c.addServer(new HostPort("127.0.0.1", b.port()))
                    .forward(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(TunnelSpec.Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port())
                    .forward(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:" + udpEcho.port() + "/udp"));
            assertTrue(client.awaitLinks(2, WAIT), "both links up");
            assertNull(client.degraded());
            InetSocketAddress local = client.tunnels().get(0).boundAddress();
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    held.add(echoed(local, "held " + i));
                }
                assertEquals(3, a.open(), "least channels first: half of 6 held connections on each server");
                assertEquals(3, b.open());
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            Await.until("held channels closed", WAIT, () -> a.open() == 0 && b.open() == 0);

            // -R: one listener on each server, each carrying data to this client's target
            Tunnel remote = client.tunnels().get(1);
            Await.until("-R listening on both servers", WAIT, () -> remote.listeners().size() == 2);
            assertEquals(List.of("127.0.0.1:" + a.port(), "127.0.0.1:" + b.port()).stream().sorted().toList(),
                    remote.listeners().keySet().stream().sorted().toList());
            for (InetSocketAddress on : remote.listeners().values()) {
                try (Socket s = echoed(on, "through -R on " + on)) {
                    assertTrue(s.isConnected());
                }
            }
            assertNull(remote.lastError());

            // a UDP source tuple stays on the link it opened on: two sources, ten datagrams each, two channels
            long before = a.server().stats().channelsOpened() + b.server().stats().channelsOpened();
            InetSocketAddress udp = client.tunnels().get(2).boundAddress();
            for (int source = 0; source < 2; source++) {
                try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    s.setSoTimeout(5_000);
                    for (int i = 0; i < 10; i++) {
                        byte[] out = ("dgram " + source + "/" + i).getBytes(StandardCharsets.UTF_8);
                        s.send(new DatagramPacket(out, out.length, udp));
                        DatagramPacket in = new DatagramPacket(new byte[256], 256);
                        s.receive(in);
                        assertEquals(new String(out, StandardCharsets.UTF_8),
                                new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8));
                    }
                }
            }
            assertEquals(2, a.server().stats().channelsOpened() + b.server().stats().channelsOpened() - before,
                    "one channel per UDP source, however many datagrams and links");
        }
    }

    @Test
    void aServerThatGoesTakesOnlyItsChannelsAndGetsItsShareWhenBack() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServerHolder a = server(nodes, 0, echo, 1);
            SdtServerHolder b = server(nodes, 0, echo, 1);
            int portA = a.port();
            SdtClient client = nodes.client(a.server(), c -> c.addServer(new HostPort("127.0.0.1", b.port()))
                    .forward(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(TunnelSpec.Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            assertTrue(client.awaitLinks(2, WAIT));
            Tunnel remote = client.tunnels().get(1);
            Await.until("-R on both", WAIT, () -> remote.listeners().size() == 2);
            InetSocketAddress local = client.tunnels().get(0).boundAddress();
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    held.add(echoed(local, "before " + i));
                }
                assertEquals(2, a.open());
                assertEquals(2, b.open());

                a.server().close();
                Await.until("the client saw server A go", WAIT, () -> client.linksUp() == 1);
                String degraded = client.degraded();
                assertNotNull(degraded);
                assertTrue(degraded.contains("1 of 2 links down (127.0.0.1:" + portA + ")"), degraded);
                int alive = 0;
                for (Socket s : held) {
                    alive += echoes(s) ? 1 : 0;
                }
                assertEquals(2, alive, "the channels on server B carry on; only server A's two are gone");
                Await.until("A's -R listener forgotten", WAIT, () -> remote.listeners().size() == 1);

                int ok = 0;
                for (int i = 0; i < 10; i++) {
                    try (Socket s = echoed(local, "during " + i)) {
                        ok += s.isConnected() ? 1 : 0;
                    }
                }
                assertEquals(10, ok, "every new connection goes to the server still up");

                SdtServerHolder back = server(nodes, portA, echo, 1);
                assertTrue(client.awaitLinks(2, WAIT), "the client dials the restarted server again");
                Await.until("-R on the restarted server", WAIT, () -> remote.listeners().size() == 2);
                assertNull(client.degraded());
                for (int i = 0; i < 2; i++) {
                    held.add(echoed(local, "after " + i));
                }
                assertEquals(2, back.open(), "the restarted server carries none, so it gets the next channels");
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void severalLinksToOneServerShareItsChannelsAndBindRemoteListenersOnce() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo()) {
            SdtServerHolder a = server(nodes, 0, echo, 1);
            SdtClient client = nodes.client(a.server(), c -> c.links(3)
                    .forward(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:" + echo.port())
                    .forward(TunnelSpec.Direction.REMOTE, "127.0.0.1:0:127.0.0.1:" + echo.port()));
            assertTrue(client.awaitLinks(3, WAIT), "three links up");
            // the server counts a link once it has checked the client's proof, a moment after the client is up
            Await.until("the server has three links", WAIT, () -> a.server().stats().linksUp() == 3);
            Tunnel remote = client.tunnels().get(1);
            assertNotNull(remote.awaitBound(WAIT));
            assertEquals(1, remote.listeners().size(), "one server, one listener");
            InetSocketAddress local = client.tunnels().get(0).boundAddress();
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    held.add(echoed(local, "striped " + i));
                }
                assertEquals(List.of(2, 2, 2), client.links().stream().map(Link::channelCount).toList());
                try (Socket s = echoed(remote.boundAddress(), "-R once")) {
                    assertTrue(s.isConnected());
                }
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            // close each of the three links in turn, so that the one holding the -R listener is among them: each
            // time the listener stays (or moves to another link of the same server) and carries data
            for (int round = 0; round < 3; round++) {
                Link one = client.links().get(round % client.links().size());
                one.channel().eventLoop().execute(() -> one.close(io.sdt.codec.ErrorCode.SHUTDOWN, "test closes a link"));
                Await.until("link closed", WAIT, one::isClosed);
                Await.until("-R listening after a link went (round " + round + ")", WAIT,
                        () -> remote.listeners().size() == 1 && echoesThrough(remote));
                assertTrue(client.awaitLinks(3, WAIT), "the closed link is dialed again");
            }
            assertNull(remote.lastError(), "no server refused a listener");
        }
    }

    @Test
    void aRemoteListenerTheServerCannotBindYetIsAskedForAgain() throws Exception {
        try (Nodes nodes = new Nodes(); Targets echo = Targets.echo();
             java.net.ServerSocket squatter = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = squatter.getLocalPort(); // held, as by a previous link the server has not seen die yet
            SdtServerHolder a = server(nodes, 0, echo, 1);
            SdtClient client = nodes.client(a.server(), c -> c
                    .forward(TunnelSpec.Direction.REMOTE, "127.0.0.1:" + port + ":127.0.0.1:" + echo.port()));
            Tunnel remote = client.tunnels().get(0);
            Await.until("the first BIND failed", WAIT, () -> remote.lastError() != null);
            assertNull(remote.boundAddress());
            squatter.close();
            Await.until("a later BIND listened", WAIT, () -> remote.boundAddress() != null);
            assertEquals(port, remote.boundAddress().getPort());
            assertNull(remote.lastError());
            try (Socket s = echoed(remote.boundAddress(), "bound on a later attempt")) {
                assertTrue(s.isConnected());
            }
        }
    }

    private static boolean echoesThrough(Tunnel remote) {
        InetSocketAddress at = remote.boundAddress();
        if (at == null) {
            return false;
        }
        try (Socket s = echoed(at, "after the binder went")) {
            return s.isConnected();
        } catch (IOException | AssertionError e) {
            return false;
        }
    }
}
