package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IP address with a prefix length: a network ({@code 10.8.0.0/24}) or an address together with
 * the length of the network it sits in ({@code 10.8.0.2/24}, as a VPN grants it). Host bits are kept;
 * {@link #network()} clears them. Encoded as a family byte ({@code 1} IPv4 + 4 bytes, {@code 4} IPv6 +
 * 16 bytes, as in {@link HostPort}) followed by one byte of prefix length. Never resolves a name.
 *
 * @param address 4 (IPv4) or 16 (IPv6) bytes, network byte order; copied in and out
 * @param length  0 to 32 for IPv4, 0 to 128 for IPv6
 */
public record IpPrefix(byte[] address, int length) {

    /** The first 12 bytes of an IPv4-mapped IPv6 address, {@code ::ffff:0:0/96}. */
    private static final byte[] MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF};

    public IpPrefix {
        if (address == null || address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("an IP address has 4 or 16 bytes, not "
                    + (address == null ? "none" : address.length));
        }
        if (length < 0 || length > address.length * 8) {
            throw new IllegalArgumentException("prefix length out of range for IPv" + (address.length == 4 ? 4 : 6)
                    + ": " + length);
        }
        address = address.clone();
    }

    /**
     * Parses {@code 10.8.0.0/24}, {@code fd00::/64}, or a bare address, which is a host prefix
     * ({@code /32} or {@code /128}). Only IP literals are accepted: no names, no brackets, no IPv6
     * scope ids, and no leading zeros in IPv4 parts (which some resolvers read as octal) or in the
     * prefix length.
     *
     * @throws IllegalArgumentException naming what is wrong with {@code text}
     */
    public static IpPrefix parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty IP prefix");
        }
        int slash = text.indexOf('/');
        String ip = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = parseAddress(ip);
        if (bytes == null) {
            throw new IllegalArgumentException("'" + ip + "' is not an IPv4 or IPv6 address (in '" + text + "')");
        }
        int bits = bytes.length * 8;
        if (slash < 0) {
            return new IpPrefix(bytes, bits);
        }
        String len = text.substring(slash + 1);
        int length = -1;
        if (!len.isEmpty() && len.length() <= 3 && len.chars().allMatch(c -> c >= '0' && c <= '9')
                && (len.length() == 1 || len.charAt(0) != '0')) {
            length = Integer.parseInt(len);
        }
        if (length < 0 || length > bits) {
            throw new IllegalArgumentException("bad prefix length '" + len + "' in '" + text + "': IPv"
                    + (bits == 32 ? 4 : 6) + " takes 0 to " + bits);
        }
        return new IpPrefix(bytes, length);
    }

    /** The bytes of an IPv4 or IPv6 literal, or null if {@code ip} is anything else. */
    private static byte[] parseAddress(String ip) {
        if (ip.indexOf(':') < 0) {
            return strictIpv4(ip) ? NetUtil.createByteArrayFromIpAddressString(ip) : null;
        }
        // Netty would take "[::1]" and "fe80::1%eth0" too; neither belongs in a prefix.
        if (ip.indexOf('[') >= 0 || ip.indexOf(']') >= 0 || ip.indexOf('%') >= 0 || !NetUtil.isValidIpV6Address(ip)) {
            return null;
        }
        int dot = ip.indexOf('.');
        if (dot >= 0 && !strictIpv4(ip.substring(ip.lastIndexOf(':') + 1))) {
            return null;
        }
        return NetUtil.createByteArrayFromIpAddressString(ip);
    }

    /** Four decimal parts of 0 to 255 without leading zeros, as {@code inet_pton} takes them. */
    private static boolean strictIpv4(String ip) {
        if (!NetUtil.isValidIpV4Address(ip)) {
            return false;
        }
        int start = 0;
        while (start < ip.length()) {
            int end = ip.indexOf('.', start);
            end = end < 0 ? ip.length() : end;
            if (end - start > 1 && ip.charAt(start) == '0') {
                return false;
            }
            start = end + 1;
        }
        return true;
    }

    /** A copy of the address bytes. */
    @Override
    public byte[] address() {
        return address.clone();
    }

    public boolean ipv6() {
        return address.length == 16;
    }

    /**
     * True if {@code addr} (4 or 16 bytes) is of this prefix's family and its first {@link #length()}
     * bits equal this address's. An address of the other family is never contained.
     */
    public boolean contains(byte[] addr) {
        return addr.length == address.length && samePrefix(address, addr, length);
    }

    /** True if every address of {@code other} is inside this network. */
    public boolean contains(IpPrefix other) {
        return other.length >= length && contains(other.address);
    }

    /** This prefix with the host bits cleared: {@code 10.8.0.2/24} gives {@code 10.8.0.0/24}. */
    public IpPrefix network() {
        byte[] net = address.clone();
        for (int i = 0; i < net.length; i++) {
            net[i] &= (byte) mask(Math.max(0, Math.min(8, length - i * 8)));
        }
        return new IpPrefix(net, length);
    }

    /** The address as an {@link InetAddress}, without DNS; a 16-byte address stays IPv6 even if it maps IPv4. */
    public InetAddress inetAddress() {
        try {
            return ipv6() ? Inet6Address.getByAddress(null, address, -1) : InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4- or 16-byte address cannot be unknown", e);
        }
    }

    /** Bytes {@link #encode} writes: 6 for IPv4, 18 for IPv6. */
    public int encodedSize() {
        return 1 + address.length + 1;
    }

    public void encode(ByteBuf out) {
        out.writeByte(ipv6() ? HostPort.FAMILY_IPV6 : HostPort.FAMILY_IPV4);
        out.writeBytes(address);
        out.writeByte(length);
    }

    /**
     * Reads a prefix from {@code in}.
     *
     * @throws FrameException {@code MALFORMED_ADDRESS} on an unknown family (names included), a
     *         truncated address or prefix length, or a prefix length out of range for the family
     */
    public static IpPrefix decode(ByteBuf in) {
        if (!in.isReadable()) {
            throw malformed("missing prefix family");
        }
        int family = in.readUnsignedByte();
        if (family != HostPort.FAMILY_IPV4 && family != HostPort.FAMILY_IPV6) {
            throw malformed("unknown prefix family " + family);
        }
        int n = family == HostPort.FAMILY_IPV4 ? 4 : 16;
        if (in.readableBytes() < n + 1) {
            throw malformed("truncated IPv" + (n == 4 ? 4 : 6) + " prefix");
        }
        byte[] ip = new byte[n];
        in.readBytes(ip);
        int length = in.readUnsignedByte();
        if (length > n * 8) {
            throw malformed("prefix length " + length + " is longer than " + n * 8 + " bits");
        }
        return new IpPrefix(ip, length);
    }

    private static boolean samePrefix(byte[] a, byte[] b, int bits) {
        int whole = bits >>> 3;
        for (int i = 0; i < whole; i++) {
            if (a[i] != b[i]) {
                return false;
            }
        }
        int rest = bits & 7;
        return rest == 0 || ((a[whole] ^ b[whole]) & mask(rest)) == 0;
    }

    /** The byte whose top {@code bits} (0 to 8) bits are set. */
    private static int mask(int bits) {
        return (0xFF00 >>> bits) & 0xFF;
    }

    private static FrameException malformed(String message) {
        return new FrameException(FrameException.Reason.MALFORMED_ADDRESS, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpPrefix p && p.length == length && Arrays.equals(p.address, address);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(address) * 31 + length;
    }

    /**
     * {@code 10.8.0.2/24}, {@code fd00::2/64}: IPv6 in RFC 5952 form, without brackets, and an
     * IPv4-mapped address with its IPv4 part dotted ({@code ::ffff:10.1.2.3/128}) as RFC 5952
     * section 5 recommends.
     */
    @Override
    public String toString() {
        if (ipv6() && Arrays.equals(address, 0, 12, MAPPED_PREFIX, 0, 12)) {
            return "::ffff:" + NetUtil.bytesToIpAddress(address, 12, 4) + "/" + length;
        }
        return NetUtil.bytesToIpAddress(address) + "/" + length;
    }

}
