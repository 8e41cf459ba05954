package io.sdt.core.tunnel.router.proxy;

import io.netty.channel.Channel;
import io.sdt.codec.HostPort;

/**
 * What the router frontend asks for once a customer's handshake is complete: a stream to a target,
 * or a sink for a SOCKS5 UDP association. Both methods are called on the customer socket's event
 * loop; an exception they throw is treated as a general failure (SOCKS5 REP 0x01, HTTP 502).
 */
public interface ProxyBackend {

    /**
     * Open a stream to {@code target} for {@code socket}, then call {@code result} exactly once on
     * the socket's event loop (it may be called before this method returns). The handshake timeout
     * no longer runs: the backend bounds its own connect time and answers with
     * {@code failed(TIMEOUT, ...)}. The customer may close meanwhile; watch
     * {@code socket.closeFuture()} to abandon the attempt (answering afterwards is harmless).
     *
     * @param target never port 0; an IP literal or a domain name, as the customer gave it
     */
    void connect(Channel socket, HostPort target, ConnectResult result);

    /**
     * A SOCKS5 UDP association is bound and about to be confirmed to the customer. Return the sink
     * that takes its datagrams, or {@code null} to refuse it (the customer gets REP 0x02 and the
     * control connection closes; no sink method is ever called).
     */
    UdpAssociation.Sink associate(UdpAssociation association);
}
