package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;

/**
 * What the VPN channel of either side shares: its link and id, no stream bytes (DATA is a protocol error),
 * and one end however it comes (the peer's CLOSE, the link's loss), after which {@link #ended} runs once.
 * Confined to the link's event loop.
 */
abstract class VpnChannel implements LinkChannel {

    final Link link;
    final int id;
    boolean closed;

    VpnChannel(Link link, int id) {
        this.link = link;
        this.id = id;
    }

    /** The channel ended; called once. */
    abstract void ended();

    @Override
    public void onData(ByteBuf payload) {
        link.reject(payload, "DATA on VPN channel " + id);
    }

    @Override
    public void onClose(ErrorCode code) {
        end();
        link.unregister(id);
    }

    @Override
    public void onLinkClosed() {
        end();
    }

    final void end() {
        if (!closed) {
            closed = true;
            ended();
        }
    }

    @Override
    public String toString() {
        return link + " VPN channel " + id;
    }
}
