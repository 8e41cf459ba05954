package io.sdt.encap;

import io.sdt.core.secret.SharedSecret;
import io.sdt.core.tun.Interfaces;

import java.nio.charset.StandardCharsets;

/**
 * The validated configuration of one {@code udp-encap-tun} engine. Immutable.
 *
 * @param tunName      TUN interface to attach to or create
 * @param listenPort   UDP port (and, on the server, TCP authentication port; on the client, TCP source port)
 * @param bindDevice   interface all sockets are bound to ({@code SO_BINDTODEVICE})
 * @param endpointPort the server's port, which makes this a client; 0 for the server role
 * @param secret       the shared secret ({@link #secret(String)})
 * @param pool         server only: CIDR to generate peer addresses from, or {@code null} for the TUN's subnet
 */
public record EncapConfig(String tunName, int listenPort, String bindDevice, int endpointPort, SharedSecret secret,
                          String pool) {

    public EncapConfig {
        checkInterfaceName(tunName);
        checkInterfaceName(bindDevice);
        checkPort(listenPort);
        if (endpointPort != 0) {
            checkPort(endpointPort);
        }
        if (secret == null) {
            throw new IllegalArgumentException("a secret is required");
        }
        if (pool != null) {
            checkPool(pool);
            if (endpointPort != 0) {
                throw new IllegalArgumentException("a pool applies to the server role only (no endpoint port)");
            }
        }
    }

    /**
     * The key-derivation label of udp-encap-tun secrets: the same file used for {@code sdt server} tokens
     * gives a different key here.
     */
    private static final byte[] SECRET_LABEL = "sdt udp-encap-tun v1\0".getBytes(StandardCharsets.US_ASCII);

    /**
     * The secret from the text of a secret file; surrounding whitespace and a trailing newline are ignored.
     *
     * @throws IllegalArgumentException if it is empty, shorter than {@value SharedSecret#MIN_LENGTH}
     *         characters, or contains whitespace or control characters
     */
    public static SharedSecret secret(String text) {
        return SharedSecret.of(text, "secret", SECRET_LABEL);
    }

    /** Client role: an endpoint port was given. */
    public boolean client() {
        return endpointPort != 0;
    }

    /** @throws IllegalArgumentException if {@code name} is not a valid Linux interface name */
    public static void checkInterfaceName(String name) {
        Interfaces.validName(name);
    }

    /** @throws IllegalArgumentException unless 1..65535 */
    public static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range (expected 1..65535)");
        }
    }

    /** @throws IllegalArgumentException unless {@code A.B.C.D/N} with N from 8 to 32 */
    public static void checkPool(String cidr) {
        AddressPool.parse(cidr);
    }
}
