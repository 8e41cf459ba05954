package io.sdt.core;

import io.sdt.core.link.Link;

/**
 * What an operator sees of one link, for the admin endpoint: a snapshot, read off the link's loop.
 *
 * @param server      a client: the server the link goes to, as configured; a server: {@code null}
 * @param peer        the far end's address while up, else {@code null}
 * @param up          whether the link is up (authenticated)
 * @param sinceMillis up: when it came up; down: since when it has been down (epoch milliseconds)
 * @param rttMicros   the last heartbeat round trip in microseconds, or -1 if none was measured yet
 * @param channels    channels the link carries now
 * @param problem     down: why the last dial or link failed, if known; else {@code null}
 */
public record LinkView(String server, String peer, boolean up, long sinceMillis, long rttMicros, int channels,
                       String problem) {

    /** A link that is up. */
    static LinkView of(String server, Link link) {
        long rtt = link.rttNanos();
        return new LinkView(server, link.peer(), true, link.upSince(), rtt < 0 ? -1 : rtt / 1000,
                link.channelCount(), null);
    }
}
