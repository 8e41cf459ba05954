package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.sdt.codec.HostPort;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * One customer socket for unit tests: an {@link EmbeddedChannel} (AUTO_READ off, local address
 * {@link #LOCAL}) running a {@link RouterFrontend} with a recording backend. {@link #close()} checks
 * that no exception reached the pipeline and that every buffer the test sent was released.
 */
final class Customer implements AutoCloseable {

    static final InetSocketAddress LOCAL = new InetSocketAddress("192.0.2.7", 1080);
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    final CountingStats stats = new CountingStats();
    final List<HostPort> targets = new ArrayList<>();
    final EmbeddedChannel ch;
    ConnectResult result;
    /** What the backend does inside connect(), after recording it; nothing by default. */
    Consumer<ConnectResult> onConnect = r -> { };
    private final List<ByteBuf> sent = new ArrayList<>();

    Customer(ProxyAuth auth) {
        ch = new EmbeddedChannel() {
            @Override
            protected SocketAddress localAddress0() {
                return LOCAL;
            }
        };
        ch.config().setAutoRead(false);
        ProxyBackend backend = new ProxyBackend() {
            @Override
            public void connect(Channel socket, HostPort target, ConnectResult r) {
                assertEquals(ch, socket);
                assertNull(result, "connect asked twice");
                targets.add(target);
                result = r;
                onConnect.accept(r);
            }

            @Override
            public UdpAssociation.Sink associate(UdpAssociation association) {
                throw new AssertionError("an embedded channel cannot bind UDP");
            }
        };
        ch.pipeline().addLast(new RouterFrontend(new RouterSettings(auth, TIMEOUT, NioDatagramChannel.class),
                backend, stats));
    }

    Customer() {
        this(null);
    }

    void send(byte[] bytes) {
        ByteBuf b = Unpooled.buffer(bytes.length).writeBytes(bytes);
        sent.add(b);
        ch.writeInbound(b);
    }

    void send(int... bytes) {
        send(Bytes.of(bytes));
    }

    void send(String ascii) {
        send(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Everything written to the customer since the last call; releases it. */
    byte[] out() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            all.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
        return all.toByteArray();
    }

    String outText() {
        return new String(out(), StandardCharsets.ISO_8859_1);
    }

    /** Answers succeeded(); returns the leftover bytes after releasing the handed-over buffer. */
    byte[] succeed() {
        ByteBuf left = result.succeeded();
        byte[] bytes = ByteBufUtil.getBytes(left);
        left.release();
        return bytes;
    }

    boolean hasFrontend() {
        return ch.pipeline().get(RouterFrontend.class) != null;
    }

    /** Lets {@code d} pass on the channel's clock and runs what became due. */
    void advance(Duration d) {
        ch.advanceTimeBy(d.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        ch.runScheduledPendingTasks();
    }

    @Override
    public void close() {
        ch.checkException();
        ch.finishAndReleaseAll();
        for (ByteBuf b : sent) {
            assertEquals(0, b.refCnt(), "a buffer sent by the customer was not released");
        }
    }
}
