package io.sdt.core.tunnel.router.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Byte-array helpers for protocol tests. */
final class Bytes {

    private Bytes() {
    }

    static byte[] of(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] range(byte[] b, int from, int to) {
        return Arrays.copyOfRange(b, from, to);
    }

    /** A SOCKS5 domain address: ATYP 3, length, name, port. */
    static byte[] domain(String name, int port) {
        byte[] n = ascii(name);
        return concat(of(3, n.length), n, of(port >> 8, port & 0xFF));
    }
}
