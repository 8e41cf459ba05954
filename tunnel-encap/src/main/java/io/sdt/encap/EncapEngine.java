package io.sdt.encap;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.core.secret.Nonces;
import io.sdt.core.tun.Interfaces;
import io.sdt.core.tun.Offload;
import io.sdt.core.tun.TunDevice;
import io.sdt.core.tun.TunReader;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code udp-encap-tun} process: the TUN device, the UDP socket on listen-port and (server) the TCP
 * authentication listener or (client) the authentication connections, all on <b>one</b> Netty epoll event
 * loop thread. Everything below is confined to that thread once {@link #start()} has returned (start
 * builds it on the caller's thread and hands it over through the channel registrations; {@link #close()}
 * runs its work on the loop). Every queue is bounded: the TUN's own kernel queue, the UDP socket's buffers and
 * water mark (above it segments are dropped), and the client's per-destination wait queue.
 *
 * <p>The TUN's first IPv4 address, netmask and MTU are re-read every second, so the administrator may
 * configure the device after the program has created it.
 */
public final class EncapEngine implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(EncapEngine.class);
    private static final int SOCKET_BUFFER = 4 << 20;
    private static final int MAX_UNAUTHENTICATED = 64;
    private static final Duration SUMMARY_EVERY = Duration.ofMinutes(1);
    /**
     * Whether the TUN is opened with the virtio header and TCP offloads (reads of up to 64 KiB, cut here;
     * writes of joined segments, cut by the kernel); {@code -Dsdt.encap.offload=false} reads and writes one
     * packet at a time, for comparison.
     */
    static final boolean OFFLOAD = Boolean.parseBoolean(System.getProperty("sdt.encap.offload", "true"));

    private final EncapConfig config;
    private final TunStats stats = new TunStats();
    private final CompletableFuture<Void> fatal = new CompletableFuture<>();
    private final SecureRandom random = Nonces.source(); // no file read per nonce on the loop
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private MultiThreadIoEventLoopGroup group;
    private IoEventLoop loop;
    private TunDevice tun;
    private IoRegistration tunRegistration;
    private Channel udp;
    private Channel listener;
    private Peers peers;
    private volatile int tunAddress;
    private int tunNetmask;
    private volatile int readSize = 2048;
    private volatile AddressPool pool;
    private int unauthenticated;
    private String lastSummary = "";

    public EncapEngine(EncapConfig config) {
        this.config = config;
    }

    public TunStats stats() {
        return stats;
    }

    /** Completes exceptionally if the engine fails while running (e.g. the TUN device disappears). */
    public CompletableFuture<Void> fatal() {
        return fatal;
    }

    /**
     * Opens the TUN device and the sockets. On failure everything opened so far is closed.
     *
     * @throws IllegalStateException if epoll is unavailable
     * @throws Exception if the device cannot be opened or a port cannot be bound, with the reason
     */
    public void start() throws Exception {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("udp-encap-tun needs the epoll transport: " + Epoll.unavailabilityCause());
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("udp-encap-tun"), EpollIoHandler.newFactory());
        loop = (IoEventLoop) group.next();
        try {
            open();
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /**
     * Runs on the caller's thread and waits for each bind; the objects it builds are handed to the event
     * loop by the channel registrations (which order them before anything the loop does with them).
     */
    private void open() throws Exception {
        tun = TunDevice.open(config.tunName(), OFFLOAD);
        if (tun.vnetHeader()) {
            try {
                tun.offload(true);
            } catch (IOException e) {
                log.warn("TUN {}: the kernel refused TCP offloads, reading one packet at a time: {}", tun.name(),
                        e.getMessage());
            }
        }
        refreshInterface();
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        UdpOut out = new UdpOut(stats);
        ServerPeers server = null;
        if (config.client()) {
            peers = new ClientPeers(config.endpointPort(), new ClientAuthenticator(loop, config, random), out, stats,
                    Ticker.systemTicker());
        } else {
            server = new ServerPeers(new ConnectionStore(Ticker.systemTicker(), 1 << 16), () -> pool, out, stats);
            peers = server;
        }
        udp = new Bootstrap().group(loop)
                .channelFactory(() -> new EpollDatagramChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                .option(ChannelOption.RCVBUF_ALLOCATOR, readBurst())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                .option(BindToDevice.OPTION, BindToDevice.value(config.bindDevice()))
                .handler(new UdpToTun(peers, () -> tunAddress, tun::write, stats, alloc, tun.vnetHeader()))
                .bind(new InetSocketAddress(Ipv4.toAddress(0), config.listenPort())).sync().channel();
        out.channel(udp);
        udp.closeFuture().addListener(f -> {
            if (!fatal.isDone()) {
                fatal.completeExceptionally(new IllegalStateException("the UDP socket closed"));
            }
        });
        if (server != null) {
            listener = listen(server);
        }
        TunToUdp fromTun = new TunToUdp(peers, stats, alloc);
        TunReader reader = new TunReader(tun.fd(), alloc, () -> readSize,
                tun.vnetHeader() ? fromTun::acceptWithHeader : fromTun, out::flush, this::failed);
        tunRegistration = loop.register(reader).sync().getNow();
        loop.submit(() -> tunRegistration.submit(EpollIoOps.EPOLLIN)).sync();
        timers.add(loop.scheduleAtFixedRate(this::refreshQuietly, 1, 1, TimeUnit.SECONDS));
        timers.add(loop.scheduleAtFixedRate(peers::tick, 30, 30, TimeUnit.SECONDS));
        timers.add(loop.scheduleAtFixedRate(this::logSummary, SUMMARY_EVERY.toSeconds(), SUMMARY_EVERY.toSeconds(),
                TimeUnit.SECONDS));
        log.info("udp-encap-tun {}: TUN {} ({}, first IPv4 {}), UDP{} port {} bound to {}{}",
                config.client() ? "client" : "server", tun.name(), tun.created() ? "created" : "attached",
                tunAddress == 0 ? "none yet" : Ipv4.toString(tunAddress), config.client() ? "" : " and TCP",
                config.listenPort(), config.bindDevice(),
                config.client() ? ", servers at endpoint port " + config.endpointPort()
                        : ", addresses from " + (pool == null ? "the TUN's subnet (none yet)" : pool));
    }

    /**
     * Up to 64 datagrams per wake-up: a datagram never fills the 64 KiB buffer, which Netty would otherwise
     * take for "nothing more to read" and stop after one. The burst is also what the TUN write joins
     * segments over ({@link Coalescer}), ended by channelReadComplete.
     */
    private static FixedRecvByteBufAllocator readBurst() {
        FixedRecvByteBufAllocator a = new FixedRecvByteBufAllocator(Ipv4.MAX_PACKET);
        a.respectMaybeMoreData(false);
        a.maxMessagesPerRead(TunReader.BATCH);
        return a;
    }

    private Channel listen(ServerPeers server) throws InterruptedException {
        ReplayGuard replays = new ReplayGuard(Ticker.systemTicker(), Duration.ofMinutes(10), 1 << 16);
        return new ServerBootstrap().group(loop)
                .channelFactory(() -> new EpollServerSocketChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 128)
                .option(BindToDevice.OPTION, BindToDevice.value(config.bindDevice()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (unauthenticated >= MAX_UNAUTHENTICATED) {
                            stats.authRejected();
                            log.debug("too many authentications in progress; closing {}", ch.remoteAddress());
                            ch.close();
                            return;
                        }
                        unauthenticated++;
                        ch.closeFuture().addListener(f -> unauthenticated--);
                        ch.pipeline().addLast(new ServerAuthHandler(config.secret(), replays, server::admit, stats,
                                random, ClientAuthenticator.TIMEOUT));
                    }
                })
                .bind(new InetSocketAddress(Ipv4.toAddress(0), config.listenPort())).sync().channel();
    }

    private void refreshQuietly() {
        try {
            refreshInterface();
        } catch (Exception e) {
            failed(e);
        }
    }

    /** Re-reads the TUN's first IPv4 address, netmask and MTU; derives the pool when none was configured. */
    private void refreshInterface() throws IOException {
        Interfaces ifs = tun.interfaces();
        int address = ifs.ipv4(tun.name());
        int netmask = address == 0 ? 0 : ifs.netmask(tun.name());
        readSize = tun.vnetHeader() ? Offload.VNET_HEADER + Ipv4.MAX_PACKET : Math.max(ifs.mtu(tun.name()), 576);
        if (address == tunAddress && netmask == tunNetmask && (pool != null || address == 0)) {
            return;
        }
        tunAddress = address;
        tunNetmask = netmask;
        if (config.pool() != null) {
            pool = AddressPool.parse(config.pool()).excluding(address);
        } else if (address == 0) {
            pool = null;
        } else if (Integer.bitCount(netmask) < 8) {
            log.warn("TUN {} has netmask /{}; too wide for an address pool: give a --pool", tun.name(),
                    Integer.bitCount(netmask));
            pool = null;
        } else {
            pool = AddressPool.ofInterface(address, netmask);
        }
        log.info("TUN {}: first IPv4 address {}{}", tun.name(), address == 0 ? "none" : Ipv4.toString(address) + "/"
                + Integer.bitCount(netmask), config.client() ? "" : ", peer addresses from " + pool);
    }

    private void logSummary() {
        String s = stats.summary();
        if (!s.equals(lastSummary)) {
            lastSummary = s;
            log.info("counters: {}", s);
        }
    }

    private void failed(Throwable e) {
        log.error("udp-encap-tun stops: {}", e.getMessage());
        fatal.completeExceptionally(e);
    }

    /** Closes sockets and the device (a device this process created disappears) and stops the loop. */
    @Override
    public void close() {
        if (group == null || !closed.compareAndSet(false, true)) {
            return;
        }
        if (!loop.isShuttingDown()) {
            try {
                loop.submit(this::closeOnLoop).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("closing: {}", e.toString());
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        log.info("udp-encap-tun stopped; {}", stats.summary());
    }

    private void closeOnLoop() {
        timers.forEach(t -> t.cancel(false));
        if (tunRegistration != null) {
            tunRegistration.cancel();
        }
        if (listener != null) {
            listener.close();
        }
        if (udp != null) {
            fatal.complete(null);
            udp.close();
        }
        if (peers != null) {
            peers.close();
        }
        if (tun != null) {
            tun.close();
        }
    }
}
