package io.sdt.core.link;

/**
 * The sending half of one channel's flow control (RFC 4254's window, HTTP/2's flow-control window):
 * the credit this node may still send, which is the window the peer advertised in OPEN or OPEN_OK plus
 * every WINDOW increment since, less the payload bytes sent. The channel reads its local socket only
 * while there is credit. Numbers only; confined to the link's event loop.
 */
public final class SendWindow {

    private long credit;

    /** Starts with the window the peer advertised. */
    public void open(int peerWindow) {
        credit = peerWindow;
    }

    /**
     * Adds a WINDOW increment from the peer.
     *
     * @return false if the credit would exceed 2^31 - 1 bytes: the peer broke the protocol
     */
    public boolean grant(int increment) {
        credit += increment;
        return credit <= Integer.MAX_VALUE;
    }

    /** Bytes that may be sent now. */
    public long available() {
        return credit;
    }

    /** Whether {@code bytes} may be sent now, whole. */
    public boolean fits(int bytes) {
        return bytes <= credit;
    }

    /** Accounts for {@code bytes} sent; callers never send more than {@link #available()}. */
    public void consume(int bytes) {
        assert bytes <= credit : bytes + " bytes sent with " + credit + " of credit";
        credit -= bytes;
    }
}
