package io.sdt.encap;

import io.sdt.core.tun.Interfaces;

import io.netty.channel.unix.RawUnixChannelOption;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code SO_BINDTODEVICE} as a Netty channel option for epoll channels. Netty has no named option for it,
 * but epoll channels pass {@link RawUnixChannelOption}s to {@code setsockopt} before bind/connect. A
 * socket bound to a device sends and receives only through it, whatever the routing table says, so the
 * program's own UDP and TCP never loop back into the TUN even when the peer's address is routed there.
 */
final class BindToDevice {

    private static final int SOL_SOCKET = 1;
    private static final int SO_BINDTODEVICE = 25;

    /** The option; its value is {@link #value(String)}. */
    static final RawUnixChannelOption OPTION =
            new RawUnixChannelOption("SO_BINDTODEVICE", SOL_SOCKET, SO_BINDTODEVICE, Interfaces.IFNAMSIZ);

    private BindToDevice() {
    }

    /** The option value: the interface name, NUL-padded to {@code IFNAMSIZ}. A fresh buffer each call. */
    static ByteBuffer value(String device) {
        byte[] name = Interfaces.validName(device).getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[Interfaces.IFNAMSIZ];
        System.arraycopy(name, 0, b, 0, name.length);
        return ByteBuffer.wrap(b);
    }

    /** The device name in an option value read back with {@code getsockopt}, or "" if none. */
    static String name(ByteBuffer value) {
        ByteBuffer v = value.duplicate();
        StringBuilder sb = new StringBuilder();
        while (v.hasRemaining()) {
            byte c = v.get();
            if (c == 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }
}
