package io.sdt.core.tunnel;

import io.sdt.codec.Frame;

/**
 * What a tunnel does: decided once, from its spec ({@link TunnelSpec#mode()}) on the node that configured
 * it and from the flags of an OPEN frame ({@link #of(Frame.Open)}) on the node that serves a channel.
 * Each mode is one {@link TunnelMode} in a package of its own; the node's registry maps the value to it.
 */
public enum Mode {
    /**
     * {@code -L} / {@code -R} with a target, TCP or UDP: one channel per connection or source tuple
     * ({@code tunnel.forward}). Direct mode ({@code peer=}) is forward with a filter at the listener.
     */
    FORWARD,
    /** {@code push}: everything arriving at the listener goes one way, in one channel ({@code tunnel.push}). */
    PUSH,
    /**
     * {@code -D} and {@code -R PORT}: SOCKS5 and HTTP CONNECT; each channel carries the target its customer
     * named ({@code tunnel.router}).
     */
    ROUTER;

    /**
     * The mode whose egress serves {@code open} on a node that does not know the tunnel's spec (a server
     * serving its client's {@code -L}). A router's channels are served as forward channels to the target
     * they carry: OPEN does not tell them apart, and need not.
     */
    public static Mode of(Frame.Open open) {
        return open.push() ? PUSH : FORWARD;
    }
}
