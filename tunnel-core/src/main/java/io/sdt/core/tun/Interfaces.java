package io.sdt.core.tun;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads an interface's index, first IPv4 address, netmask and MTU with the classic {@code SIOCGIF*}
 * ioctls on an {@code AF_INET} datagram socket (no netlink, no blocking). {@code SIOCGIFADDR} returns the
 * interface's primary (first) IPv4 address, which is the spec's "first found IPv4 address". Each call
 * is a single short syscall, so the engine may call these on its event loop. Thread-safe.
 */
public final class Interfaces implements AutoCloseable {

    public static final int IFNAMSIZ = 16;
    static final int IFREQ_SIZE = 40;
    private static final long SIOCGIFADDR = 0x8915;
    private static final long SIOCGIFNETMASK = 0x891b;
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCGIFINDEX = 0x8933;
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final int socket;
    private boolean closed;

    public Interfaces() throws IOException {
        socket = Native.socket(Native.AF_INET, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC);
    }

    /**
     * Checks an interface name the way the kernel does ({@code dev_valid_name}).
     *
     * @throws IllegalArgumentException with the reason
     */
    public static String validName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("interface name is empty");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name '" + name + "' is longer than 15 bytes");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("interface name '" + name + "' is not allowed");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || Character.isWhitespace(c) || c < 0x20) {
                throw new IllegalArgumentException("interface name '" + name + "' contains '/', ':' or whitespace");
            }
        }
        return name;
    }

    /** A zeroed {@code struct ifreq} with the name filled in. */
    static MemorySegment ifreq(Arena arena, String name) {
        MemorySegment ifr = arena.allocate(IFREQ_SIZE);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
        return ifr;
    }

    /** Whether an interface of that name exists in this network namespace. */
    public boolean exists(String name) {
        try {
            return query(name, SIOCGIFINDEX, "SIOCGIFINDEX") != null;
        } catch (Native.NativeException e) {
            return false;
        }
    }

    /** The first IPv4 address of the interface as a big-endian int, or 0 if it has none. */
    public int ipv4(String name) throws IOException {
        return sockaddrIn(name, SIOCGIFADDR, "SIOCGIFADDR");
    }

    /** The netmask of the interface's first IPv4 address, or 0 if it has none. */
    public int netmask(String name) throws IOException {
        return sockaddrIn(name, SIOCGIFNETMASK, "SIOCGIFNETMASK");
    }

    /** The interface's MTU. */
    public int mtu(String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            Native.ioctl(socket, SIOCGIFMTU, ifr, "SIOCGIFMTU " + name);
            return ifr.get(ValueLayout.JAVA_INT_UNALIGNED, IFNAMSIZ);
        }
    }

    private int sockaddrIn(String name, long request, String what) throws Native.NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            try {
                Native.ioctl(socket, request, ifr, what + " " + name);
            } catch (Native.NativeException e) {
                if (e.errno() == Native.EADDRNOTAVAIL) {
                    return 0;
                }
                throw e;
            }
            // struct sockaddr_in at offset 16: family (2), port (2), address (4, network order)
            return ifr.get(INT_BE, IFNAMSIZ + 4);
        }
    }

    private Integer query(String name, long request, String what) throws Native.NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            Native.ioctl(socket, request, ifr, what + " " + name);
            return ifr.get(ValueLayout.JAVA_INT_UNALIGNED, IFNAMSIZ);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Native.close(socket);
        }
    }
}
