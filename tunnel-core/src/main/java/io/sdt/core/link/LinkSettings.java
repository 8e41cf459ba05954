package io.sdt.core.link;

import java.time.Duration;

/**
 * Tunables of a link, validated once at the boundary. Both nodes use their own values; the receive
 * window each side advertises is its own {@link #window()}.
 *
 * @param window             per-channel receive window in bytes: the most a peer may have in flight
 *                           on one channel (OpenSSH uses a fixed 2 MiB; the default here is 4 MiB)
 * @param maxDataPayload     largest DATA payload this node sends
 * @param maxFrameLength     largest frame this node accepts
 * @param heartbeat          a PING is sent after this much write silence
 * @param idleTimeout        the link is declared dead after this much read silence
 * @param handshakeTimeout   TLS plus authentication must finish within this time
 * @param connectTimeout     egress connects to targets give up after this time
 * @param maxUnauthenticated concurrent connections a server lets sit before authentication
 */
public record LinkSettings(int window, int maxDataPayload, int maxFrameLength, Duration heartbeat,
                           Duration idleTimeout, Duration handshakeTimeout, Duration connectTimeout,
                           int maxUnauthenticated) {

    public static final int MIN_WINDOW = 64 * 1024;
    public static final int MAX_WINDOW = 256 * 1024 * 1024 - 1;

    public LinkSettings {
        if (window < MIN_WINDOW || window > MAX_WINDOW) {
            throw new IllegalArgumentException("window must be between " + MIN_WINDOW + " and " + MAX_WINDOW + " bytes");
        }
        if (maxDataPayload < 1024 || maxDataPayload > maxFrameLength - 16) {
            throw new IllegalArgumentException("maxDataPayload out of range: " + maxDataPayload);
        }
        requirePositive(heartbeat, "heartbeat");
        requirePositive(idleTimeout, "idleTimeout");
        requirePositive(handshakeTimeout, "handshakeTimeout");
        requirePositive(connectTimeout, "connectTimeout");
        if (idleTimeout.compareTo(heartbeat) <= 0) {
            throw new IllegalArgumentException("idleTimeout must be longer than heartbeat");
        }
        if (maxUnauthenticated < 1) {
            throw new IllegalArgumentException("maxUnauthenticated must be at least 1");
        }
    }

    public static LinkSettings defaults() {
        return new LinkSettings(4 << 20, 64 * 1024, 1 << 20, Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(10), 64);
    }

    public LinkSettings withWindow(int bytes) {
        return new LinkSettings(bytes, maxDataPayload, maxFrameLength, heartbeat, idleTimeout, handshakeTimeout,
                connectTimeout, maxUnauthenticated);
    }

    public LinkSettings withHeartbeat(Duration interval, Duration timeout) {
        return new LinkSettings(window, maxDataPayload, maxFrameLength, interval, timeout, handshakeTimeout,
                connectTimeout, maxUnauthenticated);
    }

    public LinkSettings withHandshakeTimeout(Duration timeout, int maxPending) {
        return new LinkSettings(window, maxDataPayload, maxFrameLength, heartbeat, idleTimeout, timeout,
                connectTimeout, maxPending);
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }
}
