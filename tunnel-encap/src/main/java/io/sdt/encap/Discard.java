package io.sdt.encap;

/** Every reason a packet is dropped; each is counted in {@link TunStats} and logged (first at INFO). */
public enum Discard {
    /** From the TUN: not an IPv4 packet (IPv6 router solicitations appear as soon as a TUN is up). */
    NOT_IPV4("from TUN: not IPv4"),
    /** From the TUN: IPv4 but not TCP (the spec's first discard rule). */
    NOT_TCP("from TUN: not TCP"),
    /** From the TUN: IPv4 header longer than 20 bytes (the spec's second discard rule). */
    IP_OPTIONS("from TUN: IPv4 header longer than 20 bytes"),
    /** From the TUN: a fragment, which is not a whole TCP segment. */
    FRAGMENT("from TUN: IPv4 fragment"),
    /** From the TUN: shorter than its header or its total length says. */
    MALFORMED_IP("from TUN: malformed IPv4 packet"),
    /** A TCP header shorter than 20 bytes or a data offset beyond the segment (either direction). */
    MALFORMED_TCP("malformed TCP segment"),
    /** Server, from the TUN: no connection_store entry for the destination address. */
    NO_ENTRY("from TUN: no connection_store entry for the destination"),
    /** Client, from the TUN: authentication with the destination failed recently (retry pending). */
    AUTH_FAILED("from TUN: authentication with the destination failed"),
    /** Client, from the TUN: too many packets queued while authentication is in progress. */
    AUTH_QUEUE_FULL("from TUN: queue full while authenticating"),
    /** Client: a queued destination was dropped from the bounded destination table. */
    DESTINATION_EVICTED("from TUN: destination evicted from the table"),
    /** To UDP: the socket's outbound buffer is above its high water mark (UDP drops, never waits). */
    UDP_CONGESTED("to UDP: socket not writable"),
    /** To UDP: the send failed. */
    UDP_SEND_FAILED("to UDP: send failed"),
    /** From UDP: the sender has no connection_store entry (server) or is not an authenticated peer (client). */
    UNKNOWN_PEER("from UDP: sender not authenticated"),
    /** From UDP: the TUN has no IPv4 address yet, so there is no destination address to write. */
    NO_TUN_ADDRESS("from UDP: TUN has no IPv4 address"),
    /** To the TUN: the write failed (device down, or no reader in the kernel). */
    TUN_WRITE_FAILED("to TUN: write failed");

    private final String description;

    Discard(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
