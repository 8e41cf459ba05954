package io.sdt.core.tunnel.router.proxy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The one username and password a router accepts, for SOCKS5 (RFC 1929) and HTTP Basic alike.
 * Compared in constant time; {@link #toString()} never shows the password. Immutable.
 */
public final class ProxyAuth {

    private final String username;
    private final byte[] user;
    private final byte[] pass;

    private ProxyAuth(String username, byte[] user, byte[] pass) {
        this.username = username;
        this.user = user;
        this.pass = pass;
    }

    /**
     * @throws IllegalArgumentException if either is empty or longer than 255 UTF-8 bytes (the SOCKS5
     *         limit), or the username contains {@code ':'} (HTTP Basic cannot carry it)
     */
    public static ProxyAuth of(String username, String password) {
        byte[] u = username.getBytes(StandardCharsets.UTF_8);
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        if (u.length == 0 || u.length > 255 || p.length == 0 || p.length > 255) {
            throw new IllegalArgumentException("proxy username and password must be 1 to 255 bytes each");
        }
        if (username.indexOf(':') >= 0) {
            throw new IllegalArgumentException("proxy username must not contain ':'");
        }
        return new ProxyAuth(username, u, p);
    }

    public String username() {
        return username;
    }

    /**
     * True if both match. Time depends only on the configured lengths, not on the offered bytes, and
     * both fields are always compared.
     */
    public boolean matches(byte[] offeredUser, byte[] offeredPassword) {
        boolean u = MessageDigest.isEqual(user, offeredUser);
        boolean p = MessageDigest.isEqual(pass, offeredPassword);
        return u & p;
    }

    /** Same credentials (for telling whether a configuration reload changed them). */
    @Override
    public boolean equals(Object o) {
        return o instanceof ProxyAuth other && java.security.MessageDigest.isEqual(user, other.user)
                && java.security.MessageDigest.isEqual(pass, other.pass);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(user);
    }

    @Override
    public String toString() {
        return "ProxyAuth[" + username + ":***]";
    }
}
