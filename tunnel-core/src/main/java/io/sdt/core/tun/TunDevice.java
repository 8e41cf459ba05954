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
 * A Linux TUN device ({@code IFF_TUN | IFF_NO_PI}) opened non-blocking through {@code /dev/net/tun}:
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

    private final String name;
    private final boolean created;
    private final FileDescriptor fd;
    private final Interfaces interfaces;
    private final ByteBuffer[] iov = new ByteBuffer[2];

    private TunDevice(String name, boolean created, FileDescriptor fd, Interfaces interfaces) {
        this.name = name;
        this.created = created;
        this.fd = fd;
        this.interfaces = interfaces;
    }

    /**
     * Opens (attaches to or creates) the TUN device {@code name}.
     *
     * @throws IOException with the reason, e.g. not permitted (needs CAP_NET_ADMIN), or the name
     *         belongs to an interface that is not a TUN device
     */
    public static TunDevice open(String name) throws IOException {
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
                ifr.set(ValueLayout.JAVA_SHORT_UNALIGNED, Interfaces.IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI));
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
                return new TunDevice(actual, !existed, new FileDescriptor(raw), ifs);
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
