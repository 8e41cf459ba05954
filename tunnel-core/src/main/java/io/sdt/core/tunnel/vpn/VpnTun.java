package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocal;
import io.sdt.codec.IpPrefix;
import io.sdt.core.tun.InterfaceConfig;
import io.sdt.core.tun.Offload;
import io.sdt.core.tun.TunDevice;
import io.sdt.core.tun.TunReader;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A node's VPN TUN device: opened (created, or attached to an existing one), given its MTU, addresses and
 * routes, and read by one epoll thread of its own whatever the node's transport is (a TUN file descriptor
 * is polled with epoll; the links may run on io_uring or NIO). Packets read are handed to a consumer on
 * that thread, one read burst at a time; packets are written from any thread (one {@code write} per packet,
 * which the kernel takes whole). What this node added to an existing device (addresses, routes) is removed
 * on {@link #close}; a device it created disappears with it.
 *
 * <p>Offloads (unless {@code -Dsdt.vpn.offload=false}): the device is opened with the virtio header, so a
 * read may return a TCP super-segment of up to 64 KiB once {@link #offload} is on, and a write may inject
 * one, which the kernel cuts (or hands on whole to a device that can take it). Packets cross this class in
 * their wire form ({@link Offload}): bare IP, or IP after the offload header.
 */
final class VpnTun implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(VpnTun.class);
    /** Whether devices are opened with the virtio header (offloads possible); for A/B measurements. */
    static final boolean OFFLOAD = Boolean.parseBoolean(System.getProperty("sdt.vpn.offload", "true"));
    /** A read with the virtio header: the header and the largest super-segment. */
    private static final int OFFLOAD_READ = Offload.VNET_HEADER + 65535;
    /** The virtio header of a packet that needs no offload (read-only), and the I/O vector, per writing thread. */
    private static final FastThreadLocal<ByteBuffer[]> PLAIN = new FastThreadLocal<>() {
        @Override
        protected ByteBuffer[] initialValue() {
            return new ByteBuffer[] {ByteBuffer.allocateDirect(Offload.VNET_HEADER).asReadOnlyBuffer(), null};
        }
    };

    private final TunDevice device;
    private final InterfaceConfig config;
    private volatile int mtu;
    /**
     * The size of a read buffer: the device's MTU as it is now, read back every second, since an
     * administrator may raise it ({@code ip link set sdt0 mtu 9000}) and a read into a smaller buffer
     * truncates the packet.
     */
    private volatile int readSize;
    private final MultiThreadIoEventLoopGroup group;
    private final List<IpPrefix> addresses = new ArrayList<>();
    private final List<IpPrefix> routes = new ArrayList<>();
    private IoRegistration registration;

    private VpnTun(TunDevice device, InterfaceConfig config, int mtu) {
        this.device = device;
        this.config = config;
        this.readSize = device.vnetHeader() ? OFFLOAD_READ : mtu;
        this.mtu = mtu;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("sdt-vpn-" + device.name()),
                EpollIoHandler.newFactory());
    }

    /**
     * Opens {@code name} with the VPN's MTU and brings it up.
     *
     * @throws IllegalArgumentException naming {@code --vpn} and the reason (not permitted: CAP_NET_ADMIN and
     *                                  {@code /dev/net/tun} are needed): the node cannot run as configured
     */
    static VpnTun open(String name, int mtu) {
        try {
            return openOrFail(name, mtu);
        } catch (IOException e) {
            boolean permission = !java.nio.file.Files.exists(java.nio.file.Path.of("/dev/net/tun"))
                    || String.valueOf(e.getMessage()).contains("not permitted") || String.valueOf(e.getMessage())
                    .contains("ermission");
            throw new IllegalArgumentException("--vpn: " + e.getMessage() + (permission
                    ? "; the VPN needs CAP_NET_ADMIN and /dev/net/tun (in Docker: --cap-add NET_ADMIN --device "
                    + "/dev/net/tun)" : ""), e);
        }
    }

    private static VpnTun openOrFail(String name, int mtu) throws IOException {
        TunDevice device = TunDevice.open(name, OFFLOAD);
        InterfaceConfig config = null;
        try {
            config = new InterfaceConfig();
            config.setMtu(device.name(), mtu);
            config.up(device.name());
            return new VpnTun(device, config, mtu);
        } catch (IOException | RuntimeException e) {
            if (config != null) {
                config.close();
            }
            device.close();
            throw e;
        }
    }

    String name() {
        return device.name();
    }

    int mtu() {
        return mtu;
    }

    /** Whether the device speaks the virtio header (reads may then be super-segments once offloads are on). */
    boolean offloads() {
        return device.vnetHeader();
    }

    /**
     * Turns the kernel's offloads for this device's reads on or off (a client turns them on once its server
     * takes super-segments); false, and logged, if the kernel refused.
     */
    boolean offload(boolean on) {
        if (!device.vnetHeader()) {
            return false;
        }
        try {
            device.offload(on);
            log.debug("VPN device {}: offloads {}", device.name(), on ? "on" : "off");
            return true;
        } catch (IOException e) {
            log.warn("VPN device {}: cannot turn offloads {}: {}", device.name(), on ? "on" : "off", e.getMessage());
            return false;
        }
    }

    /** Changes the device's MTU (the server told a client another one); reads size their buffers to it. */
    synchronized void setMtu(int mtu) throws IOException {
        config.setMtu(device.name(), mtu);
        this.mtu = mtu;
        if (!device.vnetHeader()) {
            this.readSize = mtu;
        }
    }

    /** Adds an address to the device (with its network's prefix length: the network is then on-link). */
    synchronized void addAddress(IpPrefix address) throws IOException {
        if (!addresses.contains(address)) {
            config.addAddress(device.name(), address.address(), address.length());
            addresses.add(address);
        }
    }

    synchronized void removeAddress(IpPrefix address) {
        if (addresses.remove(address)) {
            try {
                config.removeAddress(device.name(), address.address(), address.length());
            } catch (IOException e) {
                log.warn("VPN device {}: cannot remove address {}: {}", device.name(), address, e.getMessage());
            }
        }
    }

    synchronized List<IpPrefix> addresses() {
        return List.copyOf(addresses);
    }

    /** Routes {@code network} through the device. */
    synchronized void addRoute(IpPrefix network) throws IOException {
        if (!routes.contains(network)) {
            config.addRoute(device.name(), network.network().address(), network.length());
            routes.add(network);
        }
    }

    synchronized void removeRoutes() {
        for (IpPrefix r : routes) {
            try {
                config.deleteRoute(device.name(), r.network().address(), r.length());
            } catch (IOException e) {
                log.warn("VPN device {}: cannot remove route {}: {}", device.name(), r, e.getMessage());
            }
        }
        routes.clear();
    }

    /**
     * Starts reading: every packet goes to {@code packets} (which owns it) on the device's thread, and
     * {@code burstDone} runs after each read burst.
     */
    void start(Consumer<ByteBuf> packets, Runnable burstDone) throws InterruptedException {
        IoEventLoop loop = (IoEventLoop) group.next();
        Consumer<ByteBuf> sink = device.vnetHeader() ? p -> packets.accept(wireForm(p)) : packets;
        TunReader reader = new TunReader(device.fd(), PooledByteBufAllocator.DEFAULT, () -> readSize, sink, burstDone,
                e -> log.error("VPN device {}: reading failed, no more packets from it: {}", device.name(),
                        e.getMessage()));
        registration = loop.register(reader).sync().getNow();
        loop.submit(() -> registration.submit(EpollIoOps.EPOLLIN)).sync();
        if (!device.vnetHeader()) {
            loop.scheduleAtFixedRate(this::refreshReadSize, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** A read with the virtio header in its wire form (the reader has right-sized small reads). */
    private static ByteBuf wireForm(ByteBuf read) {
        if (read.readableBytes() <= Offload.VNET_HEADER) {
            return read.skipBytes(read.readableBytes()); // nothing: the consumer drops it as malformed
        }
        Offload.fromDevice(read);
        return read;
    }

    private void refreshReadSize() {
        try {
            readSize = Math.max(mtu, device.interfaces().mtu(device.name()));
        } catch (IOException e) {
            log.debug("VPN device {}: cannot read its MTU: {}", device.name(), e.getMessage());
        }
    }

    /**
     * Writes one packet in wire form to the device; any thread. The buffer stays the caller's, but a marked
     * packet's header is turned into the device's byte order in place. A packet that is not one direct
     * buffer (a frame decoded across TLS records is a composite, or was merged on the heap) is copied into
     * one first: the device's {@code write} takes a native address, and a heap buffer's would be none
     * ({@code EFAULT}). A device without the virtio header gets a super-segment cut into packets.
     *
     * @return false if the device refused it (full, gone)
     */
    boolean write(ByteBuf packet) {
        boolean marked = Offload.marked(packet);
        if (marked && !device.vnetHeader()) {
            boolean[] all = {true};
            Offload.toPlain(packet, PooledByteBufAllocator.DEFAULT, p -> {
                all[0] &= write(p);
                p.release();
            });
            return all[0];
        }
        ByteBuf copy = null;
        ByteBuf out = packet;
        if (!packet.isDirect() || packet.nioBufferCount() != 1) {
            copy = PooledByteBufAllocator.DEFAULT.directBuffer(packet.readableBytes());
            copy.writeBytes(packet, packet.readerIndex(), packet.readableBytes());
            out = copy;
        }
        try {
            ByteBuffer nio = out.nioBuffer();
            if (marked) {
                Offload.toDevice(out);
                nio = out.nioBuffer();
            } else if (device.vnetHeader()) {
                ByteBuffer[] iov = PLAIN.get();
                iov[0].clear();
                iov[1] = nio;
                try {
                    return device.fd().writev(iov, 0, 2, Long.MAX_VALUE) == Offload.VNET_HEADER + out.readableBytes();
                } finally {
                    iov[1] = null;
                }
            }
            return device.fd().write(nio, nio.position(), nio.limit()) == out.readableBytes();
        } catch (IOException e) {
            return false;
        } finally {
            if (copy != null) {
                copy.release();
            }
        }
    }

    @Override
    public void close() {
        if (registration != null) {
            registration.cancel();
        }
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        if (!device.created()) {
            removeRoutes();
            for (IpPrefix a : addresses()) {
                removeAddress(a);
            }
        }
        device.close();
        config.close();
    }
}
