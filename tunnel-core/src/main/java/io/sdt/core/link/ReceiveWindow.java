package io.sdt.core.link;

/**
 * The receiving half of one channel's flow control: the window this node advertised, the bytes the peer
 * sent that have not been credited back, and when to send WINDOW. Credit goes back only for bytes the
 * channel has consumed (written to its local socket, or spooled), and only once a quarter of the window
 * has been consumed, so a slow local reader stalls its own channel and one WINDOW frame covers many DATA
 * frames. Numbers only; confined to the link's event loop.
 */
public final class ReceiveWindow {

    private final int window;
    private final int threshold;
    /** Received and not yet credited back: never above {@link #window} from a peer that keeps the rules. */
    private long unacked;
    /** Consumed and not yet credited back. */
    private int consumed;

    /** @param window the window advertised to the peer, in bytes (at least 1) */
    public ReceiveWindow(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        this.window = window;
        this.threshold = Math.max(1, window / 4);
    }

    /** The window advertised to the peer. */
    public int size() {
        return window;
    }

    /**
     * Counts {@code bytes} arriving from the peer.
     *
     * @return false if they overrun the window: the peer broke the protocol
     */
    public boolean receive(int bytes) {
        unacked += bytes;
        return unacked <= window;
    }

    /**
     * Counts {@code bytes} the channel has consumed.
     *
     * @return the increment to send in a WINDOW frame now, or 0 while less than a quarter window is due
     */
    public int consume(int bytes) {
        consumed += bytes;
        if (consumed < threshold) {
            return 0;
        }
        int increment = consumed;
        unacked -= increment;
        consumed = 0;
        return increment;
    }

    /** Received bytes not yet credited back (consumed or not). */
    public long outstanding() {
        return unacked;
    }
}
