package io.sdt.core.tunnel.router.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.transport.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.sdt.core.tunnel.router.proxy.Bytes.ascii;
import static io.sdt.core.tunnel.router.proxy.Bytes.concat;
import static io.sdt.core.tunnel.router.proxy.Bytes.domain;
import static io.sdt.core.tunnel.router.proxy.Bytes.of;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * SOCKS5 UDP ASSOCIATE through a real listener on loopback (port 0), with a backend whose sink
 * echoes every datagram back through {@link UdpAssociation#reply}; the client is written here.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UdpAssociationIT {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final byte[] TARGET_V4 = of(1, 198, 51, 100, 9, 0, 53);

    /** The backend: refuses every CONNECT, echoes every datagram, records what it saw. */
    private static final class EchoBackend implements ProxyBackend {
        final List<HostPort> targets = new CopyOnWriteArrayList<>();
        final AtomicInteger closed = new AtomicInteger();
        volatile UdpAssociation association;

        @Override
        public void connect(Channel socket, HostPort target, ConnectResult result) {
            result.failed(ErrorCode.DENIED, "udp test");
        }

        @Override
        public UdpAssociation.Sink associate(UdpAssociation a) {
            association = a;
            return new UdpAssociation.Sink() {
                @Override
                public void datagram(HostPort target, ByteBuf payload) {
                    targets.add(target);
                    a.reply(target, payload);
                }

                @Override
                public void closed() {
                    closed.incrementAndGet();
                }
            };
        }
    }

    /** A router listener on {@code ip}, port 0, for one test. */
    private static final class Router implements AutoCloseable {
        final EchoBackend backend = new EchoBackend();
        final CountingStats stats = new CountingStats();
        final EventLoopGroup group;
        final Channel server;

        Router(Transport transport, InetAddress ip) throws InterruptedException {
            group = transport.newGroup(1, new DefaultThreadFactory("router-it", true));
            server = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new RouterFrontend(
                                    RouterSettings.of(null, transport.datagramChannel()), backend, stats));
                        }
                    })
                    .bind(new InetSocketAddress(ip, 0)).sync().channel();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.localAddress();
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Runs greeting and ASSOCIATE with {@code hint} (ATYP..PORT) on {@code control}; returns BND. */
    private static InetSocketAddress associate(Socket control, byte[] hint) throws IOException {
        control.getOutputStream().write(concat(of(5, 1, 0), of(5, 3, 0), hint));
        DataInputStream in = new DataInputStream(control.getInputStream());
        byte[] head = new byte[6];
        in.readFully(head);
        assertArrayEquals(of(5, 0, 5, 0, 0), Arrays.copyOf(head, 5), "method selection and success");
        byte[] ip = new byte[head[5] == 1 ? 4 : 16];
        in.readFully(ip);
        InetSocketAddress bnd = new InetSocketAddress(InetAddress.getByAddress(ip), in.readUnsignedShort());
        assertEquals(control.getLocalAddress() instanceof java.net.Inet4Address ? 1 : 4, head[5]);
        assertEquals(control.getInetAddress(), bnd.getAddress(), "UDP bound on the control connection's IP");
        assertNotEquals(0, bnd.getPort());
        return bnd;
    }

    private static void send(DatagramSocket s, InetSocketAddress to, byte[] data) throws IOException {
        s.send(new DatagramPacket(data, data.length, to));
    }

    private static byte[] receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    private static byte[] udpHeader(int frag, byte[] target) {
        return concat(of(0, 0, frag), target);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void echoesFiltersAndEndsWithTheControlConnection(Transport transport) throws Exception {
        assumeTrue(transport.isAvailable(), () -> transport.id() + " unavailable: " + transport.unavailabilityCause());
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (Router router = new Router(transport, loopback);
             Socket control = new Socket();
             DatagramSocket client = new DatagramSocket(new InetSocketAddress(loopback, 0));
             DatagramSocket stranger = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
            control.connect(router.address(), 5000);
            control.setSoTimeout(5000);
            client.setSoTimeout(5000);
            InetSocketAddress relay = associate(control, of(1, 0, 0, 0, 0, 0, 0));
            EchoBackend backend = router.backend;
            CountingStats stats = router.stats;

            send(client, relay, concat(udpHeader(0, TARGET_V4), ascii("ping")));
            assertArrayEquals(concat(udpHeader(0, TARGET_V4), ascii("ping")), receive(client));
            assertEquals(List.of(new HostPort("198.51.100.9", 53)), backend.targets);
            assertEquals(new InetSocketAddress(loopback, client.getLocalPort()), backend.association.client());

            byte[] byName = domain("example.com", 5353);
            send(client, relay, concat(udpHeader(0, byName), new byte[1200]));
            assertArrayEquals(concat(udpHeader(0, byName), new byte[1200]), receive(client));

            send(client, relay, concat(udpHeader(1, TARGET_V4), ascii("fragment")));
            Await.until("fragment counted", WAIT, () -> stats.fragmentDropped.get() == 1);
            send(client, relay, of(0, 1, 0, 1, 1, 2, 3, 4, 0, 53));   // RSV != 0
            send(client, relay, of(0, 0, 0));                          // no ATYP
            send(client, relay, of(0, 0, 0, 9, 1, 2, 3, 4, 0, 53));    // unknown ATYP
            send(client, relay, of(0, 0, 0, 3, 0, 0, 53));             // empty name
            send(client, relay, of(0, 0, 0, 1, 1, 2, 3, 4, 0, 0));     // port 0
            Await.until("malformed counted", WAIT, () -> stats.malformed.get() == 5);
            send(stranger, relay, concat(udpHeader(0, TARGET_V4), ascii("stranger")));
            Await.until("stranger counted", WAIT, () -> stats.strangerDropped.get() == 1);
            assertEquals(2, backend.targets.size(), "nothing dropped reached the sink");

            control.getOutputStream().write(ascii("bytes on the control connection are discarded"));
            send(client, relay, concat(udpHeader(0, TARGET_V4), ascii("after")));
            assertArrayEquals(concat(udpHeader(0, TARGET_V4), ascii("after")), receive(client),
                    "the next datagram back is this one: the fragment and the others were not echoed");

            UdpAssociation association = backend.association;
            assertTrue(association.isOpen());
            assertEquals(0, backend.closed.get());
            control.close();
            Await.until("association ended", WAIT, () -> !association.isOpen() && backend.closed.get() == 1);
            // a reply after the end is released, not sent
            ByteBuf late = association.control().alloc().buffer(4).writeInt(7);
            association.reply(new HostPort("198.51.100.9", 53), late);
            Await.until("late reply released", WAIT, () -> late.refCnt() == 0);
            assertEquals(1, backend.closed.get(), "closed() once");
        }
    }

    @Test
    void aHintedPortAdmitsOnlyThatPort() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (Router router = new Router(Transport.select("auto"), loopback);
             Socket control = new Socket();
             DatagramSocket client = new DatagramSocket(new InetSocketAddress(loopback, 0));
             DatagramSocket otherPort = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
            control.connect(router.address(), 5000);
            control.setSoTimeout(5000);
            client.setSoTimeout(5000);
            int port = client.getLocalPort();
            InetSocketAddress relay = associate(control, of(1, 127, 0, 0, 1, port >> 8, port & 0xFF));
            send(otherPort, relay, concat(udpHeader(0, TARGET_V4), ascii("no")));
            Await.until("other port counted", WAIT, () -> router.stats.strangerDropped.get() == 1);
            send(client, relay, concat(udpHeader(0, TARGET_V4), ascii("yes")));
            assertArrayEquals(concat(udpHeader(0, TARGET_V4), ascii("yes")), receive(client));
            assertEquals(1, router.backend.targets.size());
        }
    }

    @Test
    void worksOverIpv6() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(v6, 0))) {
            assertTrue(probe.isBound());
        } catch (IOException e) {
            assumeTrue(false, "no IPv6 loopback: " + e);
        }
        try (Router router = new Router(Transport.select("auto"), v6);
             Socket control = new Socket();
             DatagramSocket client = new DatagramSocket(new InetSocketAddress(v6, 0))) {
            control.connect(router.address(), 5000);
            control.setSoTimeout(5000);
            client.setSoTimeout(5000);
            InetSocketAddress relay = associate(control, of(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            byte[] target = of(4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 53);
            send(client, relay, concat(udpHeader(0, target), ascii("six")));
            assertArrayEquals(concat(udpHeader(0, target), ascii("six")), receive(client));
            assertEquals(List.of(new HostPort("2001:db8::1", 53)), router.backend.targets);
            control.close();
            Await.until("association ended", WAIT, () -> router.backend.closed.get() == 1);
            assertFalse(router.backend.association.isOpen());
        }
    }
}
