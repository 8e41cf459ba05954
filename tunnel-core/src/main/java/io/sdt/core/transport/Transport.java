package io.sdt.core.transport;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;

/**
 * One I/O transport: the event loop's I/O handler and the matching channel classes. Chosen once per
 * node with {@link #select(String)} and handed to every component that opens sockets.
 */
public enum Transport {
    IO_URING("io_uring", () -> IoUring.isAvailable() ? null : IoUring.unavailabilityCause(),
            IoUringIoHandler::newFactory, IoUringServerSocketChannel.class, IoUringSocketChannel.class,
            IoUringDatagramChannel.class),
    EPOLL("epoll", () -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause(),
            EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class,
            EpollDatagramChannel.class),
    NIO("nio", () -> null, NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class,
            NioDatagramChannel.class);

    private final String id;
    private final Supplier<Throwable> unavailability;
    private final Supplier<IoHandlerFactory> factory;
    private final Class<? extends ServerSocketChannel> serverChannel;
    private final Class<? extends SocketChannel> socketChannel;
    private final Class<? extends DatagramChannel> datagramChannel;

    Transport(String id, Supplier<Throwable> unavailability, Supplier<IoHandlerFactory> factory,
              Class<? extends ServerSocketChannel> serverChannel, Class<? extends SocketChannel> socketChannel,
              Class<? extends DatagramChannel> datagramChannel) {
        this.id = id;
        this.unavailability = unavailability;
        this.factory = factory;
        this.serverChannel = serverChannel;
        this.socketChannel = socketChannel;
        this.datagramChannel = datagramChannel;
    }

    /** The name used on the command line: {@code io_uring}, {@code epoll} or {@code nio}. */
    public String id() {
        return id;
    }

    public boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /** Why this transport cannot be used here, or {@code null} if it can. */
    public Throwable unavailabilityCause() {
        try {
            return unavailability.get();
        } catch (LinkageError e) {
            return e;
        }
    }

    /**
     * The socket option that bounds a TCP socket's unsent bytes ({@code TCP_NOTSENT_LOWAT}: the socket
     * reports writable only while fewer are queued), or null where Netty has none (NIO).
     */
    public io.netty.channel.ChannelOption<Long> notSentLowat() {
        return switch (this) {
            case EPOLL -> io.netty.channel.epoll.EpollChannelOption.TCP_NOTSENT_LOWAT;
            case IO_URING -> io.netty.channel.uring.IoUringChannelOption.TCP_NOTSENT_LOWAT;
            case NIO -> null;
        };
    }

    public Class<? extends ServerSocketChannel> serverChannel() {
        return serverChannel;
    }

    public Class<? extends SocketChannel> socketChannel() {
        return socketChannel;
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return datagramChannel;
    }

    /** A new event loop group of {@code threads} threads on this transport. */
    public MultiThreadIoEventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, factory.get());
    }

    /**
     * The transport named {@code name}: {@code auto} picks epoll, then io_uring, then NIO (epoll is
     * the default: io_uring works, but measured slower for UDP on the machines this was built on).
     *
     * @throws IllegalArgumentException if the name is unknown or the named transport is unavailable,
     *         with the reason
     */
    public static Transport select(String name) {
        String n = name == null ? "auto" : name.toLowerCase(Locale.ROOT);
        if (n.equals("auto")) {
            for (Transport t : List.of(EPOLL, IO_URING)) {
                if (t.isAvailable()) {
                    return t;
                }
            }
            return NIO;
        }
        for (Transport t : values()) {
            if (t.id.equals(n)) {
                Throwable cause = t.unavailabilityCause();
                if (cause != null) {
                    throw new IllegalArgumentException("transport " + t.id + " is not available here: " + cause);
                }
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transport '" + name + "' (expected auto, io_uring, epoll or nio)");
    }

    /** Every transport that works on this machine, fastest first. */
    public static List<Transport> available() {
        List<Transport> list = new ArrayList<>();
        for (Transport t : values()) {
            if (t.isAvailable()) {
                list.add(t);
            }
        }
        return list;
    }
}
