package io.sdt.core.tun;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Sets an interface's MTU, link state, addresses and routes with the classic ioctls, the way
 * {@code ip link/addr/route} would but without running a program: what an L3 VPN mode does to the TUN
 * device it has just created. Each call is one or two short syscalls (no netlink, no parsing).
 *
 * <p>The ioctls act in the network namespace of the sockets, which are opened by the constructor:
 * construct this in the thread (and so the namespace) whose interfaces it should change. IPv4 goes
 * through an {@code AF_INET} datagram socket, IPv6 through an {@code AF_INET6} one; if the kernel has no
 * IPv6 at all, only the IPv6 calls fail, with a message that says so. Needs CAP_NET_ADMIN in that
 * namespace. Thread-safe; {@link #close()} is idempotent.
 *
 * <p>The struct offsets below are for LP64 Linux (x86_64; aarch64 lays these structs out the same), taken
 * from the kernel UAPI headers named at each and checked with {@code offsetof} against the installed
 * {@code <net/route.h>}, {@code <linux/ipv6_route.h>} and {@code <linux/ipv6.h>}.
 */
public final class InterfaceConfig implements AutoCloseable {

    // ioctl requests, <linux/sockios.h> (the same numbers on every architecture Linux runs Java on)
    private static final long SIOCADDRT = 0x890b;
    private static final long SIOCDELRT = 0x890c;
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCGIFADDR = 0x8915;
    private static final long SIOCSIFADDR = 0x8916;
    private static final long SIOCSIFNETMASK = 0x891c;
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCSIFMTU = 0x8922;
    private static final long SIOCGIFINDEX = 0x8933;
    private static final long SIOCDIFADDR = 0x8936;

    /** {@code <linux/if.h>}: {@code IFF_UP}, in {@code ifr_flags} (a short). */
    private static final short IFF_UP = 0x1;
    /** {@code <linux/route.h>}: {@code RTF_UP}, used by the IPv6 route ioctl too. */
    private static final short RTF_UP = 0x1;
    /** The metric of the IPv6 routes we add (and must name again to delete them), as net-tools' route(8). */
    private static final int IPV6_METRIC = 1;
    /** {@code <linux/ipv6.h>}: IPv6 refuses an interface with a smaller MTU. */
    private static final int IPV6_MIN_MTU = 1280;

    // struct ifreq, <linux/if.h>: ifr_name[IFNAMSIZ] at 0, then the union (ifr_flags, ifr_mtu, ifr_ifindex,
    // ifr_addr...) at 16 (Interfaces.IFNAMSIZ); 40 bytes in all (Interfaces.IFREQ_SIZE)
    private static final long IFR_UNION = Interfaces.IFNAMSIZ;

    // struct sockaddr_in, <linux/in.h>: sin_family (u16, host order) at 0, sin_port at 2, sin_addr at 4
    private static final long SIN_FAMILY = 0;
    private static final long SIN_ADDR = 4;

    // struct in6_ifreq, <linux/ipv6.h>: { in6_addr ifr6_addr; __u32 ifr6_prefixlen; int ifr6_ifindex; }
    private static final long IN6_IFREQ_SIZE = 24;
    private static final long IFR6_ADDR = 0;
    private static final long IFR6_PREFIXLEN = 16;
    private static final long IFR6_IFINDEX = 20;

    // struct rtentry, <linux/route.h>: unsigned long rt_pad1 (0); sockaddr rt_dst (8), rt_gateway (24),
    // rt_genmask (40); u16 rt_flags (56); short rt_pad2 (58); unsigned long rt_pad3 (64); void *rt_pad4 (72);
    // short rt_metric (80); char *rt_dev (88); unsigned long rt_mtu (96), rt_window (104); u16 rt_irtt (112)
    private static final long RTENTRY_SIZE = 120;
    private static final long RT_DST = 8;
    private static final long RT_GENMASK = 40;
    private static final long RT_FLAGS = 56;
    private static final long RT_DEV = 88;

    // struct in6_rtmsg, <linux/ipv6_route.h>: in6_addr rtmsg_dst (0), rtmsg_src (16), rtmsg_gateway (32);
    // u32 rtmsg_type (48); u16 rtmsg_dst_len (52), rtmsg_src_len (54); u32 rtmsg_metric (56);
    // unsigned long rtmsg_info (64, after 4 bytes of padding); u32 rtmsg_flags (72); int rtmsg_ifindex (76)
    private static final long IN6_RTMSG_SIZE = 80;
    private static final long RTMSG_DST = 0;
    private static final long RTMSG_DST_LEN = 52;
    private static final long RTMSG_METRIC = 56;
    private static final long RTMSG_FLAGS = 72;
    private static final long RTMSG_IFINDEX = 76;

    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final int inet;
    /** -1 when the kernel has no IPv6 ({@code ipv6.disable=1}). */
    private final int inet6;
    private boolean closed;

    /** Opens the ioctl sockets in the calling thread's network namespace. */
    public InterfaceConfig() throws IOException {
        if (ValueLayout.ADDRESS.byteSize() != 8) {
            throw new IOException("interface configuration needs 64-bit Linux: the struct layouts here are LP64");
        }
        inet = Native.socket(Native.AF_INET, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC);
        int six;
        try {
            six = Native.socket(Native.AF_INET6, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC);
        } catch (Native.NativeException e) {
            if (e.errno() != Native.EAFNOSUPPORT) {
                Native.close(inet);
                throw e;
            }
            six = -1;
        }
        inet6 = six;
    }

    /** Sets the interface's MTU ({@code SIOCSIFMTU}); a TUN device takes 68 to 65535. */
    public void setMtu(String name, int mtu) throws IOException {
        Interfaces.validName(name);
        if (mtu <= 0) {
            throw new IllegalArgumentException("MTU " + mtu + " for " + name + " is not positive");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Interfaces.ifreq(arena, name);
            ifr.set(ValueLayout.JAVA_INT_UNALIGNED, IFR_UNION, mtu);
            Native.ioctl(inet, SIOCSIFMTU, ifr, "SIOCSIFMTU " + name);
        } catch (Native.NativeException e) {
            if (e.errno() == Native.EINVAL) {
                throw new IOException(name + " does not accept MTU " + mtu + " (out of its range)", e);
            }
            throw explain(name, e);
        }
    }

    /** Brings the link up: {@code SIOCGIFFLAGS}, then {@code SIOCSIFFLAGS} with {@code IFF_UP} added. */
    public void up(String name) throws IOException {
        Interfaces.validName(name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Interfaces.ifreq(arena, name);
            Native.ioctl(inet, SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS " + name);
            short flags = ifr.get(ValueLayout.JAVA_SHORT_UNALIGNED, IFR_UNION);
            if ((flags & IFF_UP) != 0) {
                return;
            }
            ifr.set(ValueLayout.JAVA_SHORT_UNALIGNED, IFR_UNION, (short) (flags | IFF_UP));
            Native.ioctl(inet, SIOCSIFFLAGS, ifr, "SIOCSIFFLAGS " + name);
        } catch (Native.NativeException e) {
            throw explain(name, e);
        }
    }

    /**
     * Gives the interface an address: IPv4 ({@code address} of 4 bytes) with {@code SIOCSIFADDR} then
     * {@code SIOCSIFNETMASK}, which <em>replaces</em> the interface's primary IPv4 address (the ioctls know
     * one per interface label); IPv6 (16 bytes) with {@code SIOCSIFADDR} on the IPv6 socket, which adds
     * one. Adding an address the interface already has is not an error (an IPv6 one is then left with
     * its prefix length). The prefix route comes with the address, as with {@code ip addr add}.
     *
     * @throws IOException naming the interface, e.g. when IPv6 is disabled on it
     */
    public void addAddress(String name, byte[] address, int prefixLength) throws IOException {
        Interfaces.validName(name);
        checkPrefix(address, prefixLength);
        if (address.length == 4) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ifr = Interfaces.ifreq(arena, name);
                sockaddrIn(ifr, IFR_UNION, address);
                Native.ioctl(inet, SIOCSIFADDR, ifr, "SIOCSIFADDR " + name + " " + text(address));
                ifr = Interfaces.ifreq(arena, name);
                sockaddrIn(ifr, IFR_UNION, netmask(prefixLength));
                Native.ioctl(inet, SIOCSIFNETMASK, ifr, "SIOCSIFNETMASK " + name + " /" + prefixLength);
            } catch (Native.NativeException e) {
                throw explain(name, e);
            }
            return;
        }
        int index = index(name);
        String what = "SIOCSIFADDR " + name + " " + text(address) + "/" + prefixLength;
        try (Arena arena = Arena.ofConfined()) {
            Native.ioctl(inet6(what), SIOCSIFADDR, in6Ifreq(arena, address, prefixLength, index), what);
        } catch (Native.NativeException e) {
            if (e.errno() == Native.EEXIST) {
                return;
            }
            throw explain6(name, e);
        }
    }

    /**
     * Takes an address {@link #addAddress} gave back off the interface. IPv4: if it is the interface's
     * primary address, {@code SIOCSIFADDR} with 0.0.0.0 (the kernel then drops it, as
     * {@code ifconfig NAME 0.0.0.0} does), whatever the prefix length; IPv6: {@code SIOCDIFADDR} on the
     * IPv6 socket, for that address with that prefix length. An address the interface does not have is not
     * an error, so a replaced IPv4 address is left alone. Its prefix route goes with it.
     */
    public void removeAddress(String name, byte[] address, int prefixLength) throws IOException {
        Interfaces.validName(name);
        checkPrefix(address, prefixLength);
        if (address.length == 4) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ifr = Interfaces.ifreq(arena, name);
                try {
                    Native.ioctl(inet, SIOCGIFADDR, ifr, "SIOCGIFADDR " + name);
                } catch (Native.NativeException e) {
                    if (e.errno() == Native.EADDRNOTAVAIL) {
                        return; // no IPv4 address at all
                    }
                    throw e;
                }
                if (ifr.get(INT_BE, IFR_UNION + SIN_ADDR) != ByteBuffer.wrap(address).getInt()) {
                    return;
                }
                ifr = Interfaces.ifreq(arena, name);
                sockaddrIn(ifr, IFR_UNION, new byte[4]);
                Native.ioctl(inet, SIOCSIFADDR, ifr, "SIOCSIFADDR " + name + " 0.0.0.0 (removing "
                        + text(address) + ")");
            } catch (Native.NativeException e) {
                throw explain(name, e);
            }
            return;
        }
        int index = index(name);
        String what = "SIOCDIFADDR " + name + " " + text(address) + "/" + prefixLength;
        try (Arena arena = Arena.ofConfined()) {
            Native.ioctl(inet6(what), SIOCDIFADDR, in6Ifreq(arena, address, prefixLength, index), what);
        } catch (Native.NativeException e) {
            // not there (EADDRNOTAVAIL), or no IPv6 on the device at all (ENXIO): nothing to remove
            if (e.errno() == Native.EADDRNOTAVAIL || e.errno() == Native.ENXIO) {
                return;
            }
            throw explain6(name, e);
        }
    }

    /**
     * Adds the route {@code network/prefixLength dev name} (no gateway) to the main table: IPv4 with
     * {@code SIOCADDRT} and a {@code struct rtentry}, IPv6 with {@code SIOCADDRT} and a
     * {@code struct in6_rtmsg} (metric 1). The link must be up. The same route already there is not an
     * error.
     *
     * @throws IllegalArgumentException if the address is not 4 or 16 bytes, the prefix length is out of
     *         range or the address has bits set past it (it is not a network)
     */
    public void addRoute(String name, byte[] network, int prefixLength) throws IOException {
        route(SIOCADDRT, "SIOCADDRT", name, network, prefixLength);
    }

    /** Deletes the route {@link #addRoute} adds; one that is not there is not an error. */
    public void deleteRoute(String name, byte[] network, int prefixLength) throws IOException {
        route(SIOCDELRT, "SIOCDELRT", name, network, prefixLength);
    }

    private void route(long request, String op, String name, byte[] network, int prefixLength) throws IOException {
        Interfaces.validName(name);
        checkPrefix(network, prefixLength);
        byte[] masked = masked(network, prefixLength);
        if (!Arrays.equals(masked, network)) {
            throw new IllegalArgumentException(text(network) + "/" + prefixLength + " is not a network: the host bits "
                    + "are set (did you mean " + text(masked) + "/" + prefixLength + "?)");
        }
        String what = op + " " + text(network) + "/" + prefixLength + " dev " + name;
        try (Arena arena = Arena.ofConfined()) {
            if (network.length == 4) {
                // the kernel copies IFNAMSIZ - 1 bytes from rt_dev whatever the name's length: give it all 16
                MemorySegment dev = arena.allocate(Interfaces.IFNAMSIZ);
                byte[] n = name.getBytes(StandardCharsets.UTF_8);
                MemorySegment.copy(n, 0, dev, ValueLayout.JAVA_BYTE, 0, n.length);
                MemorySegment rt = arena.allocate(RTENTRY_SIZE, 8);
                sockaddrIn(rt, RT_DST, network);
                sockaddrIn(rt, RT_GENMASK, netmask(prefixLength));
                rt.set(ValueLayout.JAVA_SHORT, RT_FLAGS, RTF_UP);
                rt.set(ValueLayout.ADDRESS, RT_DEV, dev);
                Native.ioctl(inet, request, rt, what);
            } else {
                int index = index(name);
                MemorySegment rt = arena.allocate(IN6_RTMSG_SIZE, 8);
                MemorySegment.copy(network, 0, rt, ValueLayout.JAVA_BYTE, RTMSG_DST, 16);
                rt.set(ValueLayout.JAVA_SHORT, RTMSG_DST_LEN, (short) prefixLength);
                rt.set(ValueLayout.JAVA_INT, RTMSG_METRIC, IPV6_METRIC);
                rt.set(ValueLayout.JAVA_INT, RTMSG_FLAGS, RTF_UP);
                rt.set(ValueLayout.JAVA_INT, RTMSG_IFINDEX, index);
                Native.ioctl(inet6(what), request, rt, what);
            }
        } catch (Native.NativeException e) {
            boolean already = request == SIOCADDRT ? e.errno() == Native.EEXIST : e.errno() == Native.ESRCH;
            if (already) {
                return;
            }
            if (e.errno() == Native.ENETDOWN) {
                throw new IOException(what + ": " + name + " is down; bring it up before adding routes", e);
            }
            throw network.length == 4 ? explain(name, e) : explain6(name, e);
        }
    }

    /** The interface's index ({@code SIOCGIFINDEX}), which the IPv6 ioctls take instead of a name. */
    private int index(String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Interfaces.ifreq(arena, name);
            Native.ioctl(inet, SIOCGIFINDEX, ifr, "SIOCGIFINDEX " + name);
            return ifr.get(ValueLayout.JAVA_INT_UNALIGNED, IFR_UNION);
        } catch (Native.NativeException e) {
            throw explain(name, e);
        }
    }

    private int inet6(String what) throws IOException {
        if (inet6 < 0) {
            throw new IOException(what + ": IPv6 is disabled in this kernel (no AF_INET6 sockets)");
        }
        return inet6;
    }

    /** The clearer message for the errors a caller can act on; the others as they are. */
    private static IOException explain(String name, Native.NativeException e) {
        return switch (e.errno()) {
            case Native.ENODEV -> new IOException("no interface " + name + " in this network namespace: "
                    + e.getMessage(), e);
            case Native.EPERM -> new IOException(e.getMessage() + " (run as root or with CAP_NET_ADMIN)", e);
            default -> e;
        };
    }

    /**
     * As {@link #explain}, and the IPv6 stack refuses a device with {@code EACCES} when
     * {@code net.ipv6.conf.NAME.disable_ipv6} is 1, and with {@code EINVAL} when its MTU is below 1280.
     */
    private IOException explain6(String name, Native.NativeException e) {
        if (e.errno() == Native.EACCES) {
            return new IOException("IPv6 is disabled on " + name + " (net.ipv6.conf." + name
                    + ".disable_ipv6 = 1): " + e.getMessage(), e);
        }
        if (e.errno() == Native.EINVAL) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ifr = Interfaces.ifreq(arena, name);
                Native.ioctl(inet, SIOCGIFMTU, ifr, "SIOCGIFMTU " + name);
                int mtu = ifr.get(ValueLayout.JAVA_INT_UNALIGNED, IFR_UNION);
                if (mtu < IPV6_MIN_MTU) {
                    return new IOException("IPv6 is off on " + name + ": its MTU " + mtu + " is below "
                            + IPV6_MIN_MTU + ": " + e.getMessage(), e);
                }
            } catch (Native.NativeException ignored) {
                // keep the original error
            }
        }
        return explain(name, e);
    }

    private static void checkPrefix(byte[] address, int prefixLength) {
        if (address == null || address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("an address is 4 (IPv4) or 16 (IPv6) bytes, not "
                    + (address == null ? "null" : address.length));
        }
        int max = address.length * 8;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " of " + text(address)
                    + " is not within 0.." + max);
        }
    }

    /** A {@code struct in6_ifreq}. */
    private static MemorySegment in6Ifreq(Arena arena, byte[] address, int prefixLength, int index) {
        MemorySegment req = arena.allocate(IN6_IFREQ_SIZE, 8);
        MemorySegment.copy(address, 0, req, ValueLayout.JAVA_BYTE, IFR6_ADDR, 16);
        req.set(ValueLayout.JAVA_INT, IFR6_PREFIXLEN, prefixLength);
        req.set(ValueLayout.JAVA_INT, IFR6_IFINDEX, index);
        return req;
    }

    /** {@code address} with the bits past {@code prefixLength} cleared. */
    private static byte[] masked(byte[] address, int prefixLength) {
        byte[] m = address.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.clamp(prefixLength - i * 8L, 0, 8);
            m[i] &= (byte) (0xff00 >>> keep);
        }
        return m;
    }

    private static byte[] netmask(int prefixLength) {
        return masked(new byte[] {-1, -1, -1, -1}, prefixLength);
    }

    /** A {@code struct sockaddr_in} (AF_INET, port 0, the address) at {@code offset}. */
    private static void sockaddrIn(MemorySegment s, long offset, byte[] address) {
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, offset + SIN_FAMILY, (short) Native.AF_INET);
        s.set(INT_BE, offset + SIN_ADDR, ByteBuffer.wrap(address).getInt());
    }

    private static String text(byte[] address) {
        try {
            return InetAddress.getByAddress(address).getHostAddress(); // no lookup: the bytes are given
        } catch (UnknownHostException e) {
            return HexFormat.of().formatHex(address);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Native.close(inet);
            if (inet6 >= 0) {
                Native.close(inet6);
            }
        }
    }
}
