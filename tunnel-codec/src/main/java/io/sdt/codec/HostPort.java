package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * A host (IPv4 or IPv6 literal, or a domain name) and a port, as carried in frames. Encoded as a
 * family byte ({@code 1} IPv4 + 4 bytes, {@code 4} IPv6 + 16 bytes, {@code 3} length-prefixed
 * domain name of 1 to 255 bytes) followed by a two-byte big-endian port. Never resolves a name.
 *
 * @param host an IP literal (IPv6 without brackets) or a domain name of ASCII letters, digits,
 *             {@code - . _}
 * @param port 0 to 65535
 */
public record HostPort(String host, int port) {

    public static final int FAMILY_IPV4 = 1;
    public static final int FAMILY_DOMAIN = 3;
    public static final int FAMILY_IPV6 = 4;

    public HostPort {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (!NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host)) {
            if (host.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw new IllegalArgumentException("host name longer than 255 bytes");
            }
            // Reject here what decode() rejects, so a bad name fails one channel, not the peer's link.
            if (!validName(host)) {
                throw new IllegalArgumentException("invalid host name: " + host);
            }
        }
    }

    public static HostPort of(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host = ip != null && !address.isUnresolved() ? NetUtil.toAddressString(ip) : address.getHostString();
        return new HostPort(host, address.getPort());
    }

    /** True if the host is an IP literal. */
    public boolean isIpLiteral() {
        return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
    }

    /**
     * An {@link InetSocketAddress}: resolved without DNS for IP literals, unresolved for names (the
     * connecting code resolves those).
     */
    public InetSocketAddress toSocketAddress() {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
        if (ip == null) {
            return InetSocketAddress.createUnresolved(host, port);
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a literal address cannot be unknown", e);
        }
    }

    /** Bytes {@link #encode} writes. */
    public int encodedSize() {
        if (NetUtil.isValidIpV4Address(host)) {
            return 1 + 4 + 2;
        }
        if (NetUtil.isValidIpV6Address(host)) {
            return 1 + 16 + 2;
        }
        return 1 + 1 + host.getBytes(StandardCharsets.UTF_8).length + 2;
    }

    public void encode(ByteBuf out) {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
        if (ip != null) {
            out.writeByte(ip.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6);
            out.writeBytes(ip);
        } else {
            byte[] name = host.getBytes(StandardCharsets.UTF_8);
            out.writeByte(FAMILY_DOMAIN);
            out.writeByte(name.length);
            out.writeBytes(name);
        }
        out.writeShort(port);
    }

    /**
     * Reads an address from {@code in}.
     *
     * @throws FrameException {@code MALFORMED_ADDRESS} on an unknown family, a truncated address or
     *         an empty or invalid name
     */
    public static HostPort decode(ByteBuf in) {
        if (!in.isReadable()) {
            throw malformed("missing address family");
        }
        int family = in.readUnsignedByte();
        String host;
        switch (family) {
            case FAMILY_IPV4, FAMILY_IPV6 -> {
                int n = family == FAMILY_IPV4 ? 4 : 16;
                if (in.readableBytes() < n + 2) {
                    throw malformed("truncated IPv" + (n == 4 ? 4 : 6) + " address");
                }
                byte[] ip = new byte[n];
                in.readBytes(ip);
                host = NetUtil.bytesToIpAddress(ip);
            }
            case FAMILY_DOMAIN -> {
                if (!in.isReadable()) {
                    throw malformed("missing domain length");
                }
                int n = in.readUnsignedByte();
                if (n == 0) {
                    throw malformed("empty domain name");
                }
                if (in.readableBytes() < n + 2) {
                    throw malformed("truncated domain name");
                }
                host = in.readCharSequence(n, StandardCharsets.UTF_8).toString();
                if (!validName(host)) {
                    throw malformed("invalid domain name");
                }
            }
            default -> throw malformed("unknown address family " + family);
        }
        return new HostPort(host, in.readUnsignedShort());
    }

    private static boolean validName(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '-' || c == '.' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static FrameException malformed(String message) {
        return new FrameException(FrameException.Reason.MALFORMED_ADDRESS, message);
    }

    /** {@code host:port}, with IPv6 literals in brackets. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
