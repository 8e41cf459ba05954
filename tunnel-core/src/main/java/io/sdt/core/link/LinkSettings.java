package io.sdt.core.link;

import java.time.Duration;

/**
 * Tunables of a link, validated once at the boundary. Both nodes use their own values; the receive
 * window each side advertises is its own {@link #window()}.
 *
 * @param window             per-channel receive window in bytes when a channel opens: the most a peer may
 *                           have in flight on it at first (OpenSSH uses a fixed 2 MiB; the default here is
 *                           256 KiB, and the window grows where that pays, see {@link ReceiveWindow})
 * @param maxDataPayload     largest DATA payload this node sends
 * @param maxFrameLength     largest frame this node accepts
 * @param heartbeat          a PING is sent after this much write silence
 * @param idleTimeout        the link is declared dead after this much read silence
 * @param handshakeTimeout   TLS plus authentication must finish within this time
 * @param connectTimeout     egress connects to targets give up after this time
 * @param maxUnauthenticated concurrent connections a server lets sit before authentication
 * @param windowMax          largest a channel's receive window may grow ({@code --window-max}; default 32 MiB,
 *                           a 1 Gbit/s path at 250 ms); equal to {@code window}: fixed windows
 * @param bufferBudget       most bytes the receive windows of all this node's channels may add up to
 *                           ({@code --buffer-budget}; default 1 GiB): a window grows only within it
 */
public record LinkSettings(int window, int maxDataPayload, int maxFrameLength, Duration heartbeat,
                           Duration idleTimeout, Duration handshakeTimeout, Duration connectTimeout,
                           int maxUnauthenticated, int windowMax, long bufferBudget) {

    public static final int DEFAULT_WINDOW = 256 * 1024;
    public static final int DEFAULT_WINDOW_MAX = 32 << 20;
    public static final long DEFAULT_BUFFER_BUDGET = 1L << 30;

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
        if (windowMax < window || windowMax > MAX_WINDOW) {
            throw new IllegalArgumentException("the largest window must be between the initial window (" + window
                    + ") and " + MAX_WINDOW + " bytes");
        }
        if (bufferBudget < window) {
            throw new IllegalArgumentException("the buffer budget must hold at least one window (" + window + " bytes)");
        }
    }

    /** Whether windows size themselves ({@link #windowMax()} above {@link #window()}). */
    public boolean autotune() {
        return windowMax > window;
    }

    public static LinkSettings defaults() {
        return new LinkSettings(DEFAULT_WINDOW, 64 * 1024, 1 << 20, Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(10), 64, DEFAULT_WINDOW_MAX, DEFAULT_BUFFER_BUDGET);
    }

    /**
     * A fixed window of {@code bytes} (no autotuning), as tests and {@code --window} without
     * {@code --window-max} had it before windows grew.
     */
    public LinkSettings withWindow(int bytes) {
        return new LinkSettings(bytes, maxDataPayload, maxFrameLength, heartbeat, idleTimeout, handshakeTimeout,
                connectTimeout, maxUnauthenticated, bytes, Math.max(bufferBudget, bytes));
    }

    /** Windows that start at {@code initial} and may grow to {@code max}, all of them within {@code budget}. */
    public LinkSettings withWindows(int initial, int max, long budget) {
        return new LinkSettings(initial, maxDataPayload, maxFrameLength, heartbeat, idleTimeout, handshakeTimeout,
                connectTimeout, maxUnauthenticated, max, budget);
    }

    public LinkSettings withHeartbeat(Duration interval, Duration timeout) {
        return new LinkSettings(window, maxDataPayload, maxFrameLength, interval, timeout, handshakeTimeout,
                connectTimeout, maxUnauthenticated, windowMax, bufferBudget);
    }

    public LinkSettings withHandshakeTimeout(Duration timeout, int maxPending) {
        return new LinkSettings(window, maxDataPayload, maxFrameLength, heartbeat, idleTimeout, timeout,
                connectTimeout, maxPending, windowMax, bufferBudget);
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }
}
