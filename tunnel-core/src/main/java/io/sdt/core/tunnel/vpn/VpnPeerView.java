package io.sdt.core.tunnel.vpn;

import io.sdt.codec.IpPrefix;

import java.util.List;

/**
 * What an operator sees of one VPN peer, for the admin endpoint: a snapshot.
 *
 * @param client      the first 8 hex digits of the client's id (the log says the same), or {@code null} on a client
 * @param addresses   the addresses the peer holds in the VPN
 * @param link        the link it speaks over (its name and address)
 * @param sinceMillis when it was admitted (epoch milliseconds)
 */
public record VpnPeerView(String client, List<IpPrefix> addresses, String link, long sinceMillis) {

    public VpnPeerView {
        addresses = List.copyOf(addresses);
    }
}
