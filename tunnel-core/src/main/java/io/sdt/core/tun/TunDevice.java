package io.sdt.core.tun;

import io.netty.buffer.ByteBuf;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * A Linux TUN device ({@code IFF_TUN | IFF_NO_PI}, with {@code IFF_VNET_HDR} on request: every read and
 * write then starts with a 10-byte {@code virtio_net_hdr}, see {@link Offload}) opened non-blocking through
 * {@code /dev/net/tun}:
 * attached if an interface of that name exists, created if absent. A device this process created lives
 * only as long as its file descriptor (its addresses and routes go with it); a persistent one
 * ({@code ip tuntap add}) stays. Addresses, MTU, link state and routes are the administrator's, or set by
 * the mode through {@link InterfaceConfig}; {@link #interfaces()} reads what is currently there.
 * Reads and writes go through {@link #fd()} on the engine's event loop; {@link #close()} is idempotent.
 */
public final class TunDevice implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(TunDevice.class);
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    /** {@code _IOW('T', 208, unsigned int)}: which offloads the kernel may hand to this device's reader. */
    private static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final int TUN_F_CSUM = 0x01;
    private static final int TUN_F_TSO4 = 0x02;
    private static final int TUN_F_TSO6 = 0x04;
    private static final int TUN_F_TSO_ECN = 0x08;

    private final String name;
    private final boolean created;
    private final FileDescriptor fd;
    private final Interfaces interfaces;
    private final boolean vnetHeader;
    private final ByteBuffer[] iov = new ByteBuffer[2];

    private TunDevice(String name, boolean created, FileDescriptor fd, Interfaces interfaces, boolean vnetHeader) {
        this.name = name;
        this.created = created;
        this.fd = fd;
        this.interfaces = interfaces;
        this.vnetHeader = vnetHeader;
    }

    /** Opens {@code name} without the virtio header: one plain IP packet per read and write. */
    public static TunDevice open(String name) throws IOException {
        return open(name, false);
    }

    /**
     * Opens (attaches to or creates) the TUN device {@code name}; with {@code vnetHeader}, every packet read
     * or written carries a {@code virtio_net_hdr} first (offloads stay off until {@link #offload}).
     *
     * @throws IOException with the reason, e.g. not permitted (needs CAP_NET_ADMIN), or the name
     *         belongs to an interface that is not a TUN device
     */
    public static TunDevice open(String name, boolean vnetHeader) throws IOException {
        Interfaces.validName(name);
        if (!Epoll.isAvailable()) { // loads the native library that FileDescriptor's reads and writes live in
            throw new IOException("TUN devices need Netty's epoll native library: " + Epoll.unavailabilityCause());
        }
        Interfaces ifs = new Interfaces();
        int raw = -1;
        try {
            boolean existed = ifs.exists(name);
            try {
                raw = Native.open("/dev/net/tun", Native.O_RDWR | Native.O_NONBLOCK | Native.O_CLOEXEC);
            } catch (Native.NativeException e) {
                if (e.errno() == Native.EACCES || e.errno() == Native.EPERM) {
                    throw new IOException(e.getMessage() + " (run as root or with CAP_NET_ADMIN)", e);
                }
                throw e;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ifr = Interfaces.ifreq(arena, name);
                ifr.set(ValueLayout.JAVA_SHORT_UNALIGNED, Interfaces.IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI | (vnetHeader ? IFF_VNET_HDR : 0)));
                try {
                    Native.ioctl(raw, TUNSETIFF, ifr, "TUNSETIFF " + name);
                } catch (Native.NativeException e) {
                    if (e.errno() == Native.EINVAL && existed) {
                        throw new IOException("interface " + name + " exists and is not a TUN device", e);
                    }
                    if (e.errno() == Native.EPERM) {
                        throw new IOException("cannot open TUN device " + name
                                + ": operation not permitted (run as root or with CAP_NET_ADMIN)", e);
                    }
                    throw e;
                }
                String actual = ifr.getString(0);
                log.info("TUN device {} {}", actual, existed ? "attached" : "created");
                return new TunDevice(actual, !existed, new FileDescriptor(raw), ifs, vnetHeader);
            }
        } catch (IOException | RuntimeException e) {
            if (raw >= 0) {
                Native.close(raw);
            }
            ifs.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /** Whether this process created the device (it then disappears on {@link #close()}). */
    public boolean created() {
        return created;
    }

    public FileDescriptor fd() {
        return fd;
    }

    /** Whether reads and writes carry a {@code virtio_net_hdr} ({@link Offload#VNET_HEADER} bytes) first. */
    public boolean vnetHeader() {
        return vnetHeader;
    }

    /**
     * Lets the kernel hand this device's reader TCP super-segments (TSO over IPv4 and IPv6, with ECN) and
     * packets whose checksum is still to be completed ({@code on}), or only finished packets. Writes may
     * carry either kind whatever is set here. Needs {@link #vnetHeader()}.
     *
     * @throws IOException if the kernel refuses (then the device keeps what it had)
     */
    public void offload(boolean on) throws IOException {
        if (!vnetHeader) {
            throw new IOException("offloads on " + name + " need the virtio header");
        }
        Native.ioctl(fd.intValue(), TUNSETOFFLOAD, on ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN : 0,
                "TUNSETOFFLOAD " + name);
    }

    /** Queries on this device's addresses and MTU. */
    public Interfaces interfaces() {
        return interfaces;
    }

    /**
     * Writes {@code header} and {@code segment} as one packet with {@code writev} (no copy unless the
     * segment is not a single direct buffer). Event loop only; both buffers stay the caller's.
     */
    public void write(ByteBuf header, ByteBuf segment) throws IOException {
        ByteBuf copy = null;
        ByteBuf seg = segment;
        if (!seg.isDirect() || seg.nioBufferCount() != 1) {
            copy = seg.alloc().directBuffer(seg.readableBytes());
            copy.writeBytes(seg, seg.readerIndex(), seg.readableBytes());
            seg = copy;
        }
        try {
            iov[0] = header.internalNioBuffer(header.readerIndex(), header.readableBytes());
            iov[1] = seg.internalNioBuffer(seg.readerIndex(), seg.readableBytes());
            long expected = header.readableBytes() + seg.readableBytes();
            long n = fd.writev(iov, 0, 2, Long.MAX_VALUE);
            if (n != expected) {
                throw new IOException("short write to " + name + ": " + n + " of " + expected + " bytes");
            }
        } finally {
            iov[0] = null;
            iov[1] = null;
            if (copy != null) {
                copy.release();
            }
        }
    }

    @Override
    public void close() {
        try {
            fd.close();
        } catch (IOException e) {
            log.debug("closing TUN {}: {}", name, e.toString());
        }
        interfaces.close();
    }
}
