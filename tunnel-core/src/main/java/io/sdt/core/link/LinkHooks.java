package io.sdt.core.link;

import io.sdt.codec.Frame;

/**
 * What a node does with the requests its peer sends over a link. Implemented by the server and the
 * client node; called on the link's event loop.
 */
public interface LinkHooks {

    /** The peer opens a channel: check policy, connect the egress, answer OPEN_OK or OPEN_FAIL. */
    void onOpen(Link link, Frame.Open open);

    /** The peer asks for a remote-forward listener. Only a client may ask. */
    default void onBind(Link link, Frame.Bind bind) {
        link.protocolViolation("unexpected BIND");
    }

    /** The peer no longer wants the listener of one of its BINDs. Only a client may ask. */
    default void onUnbind(Link link, Frame.Unbind unbind) {
        link.protocolViolation("unexpected UNBIND");
    }

    default void onBindOk(Link link, Frame.BindOk ok) {
        link.protocolViolation("unexpected BIND_OK");
    }

    default void onBindFail(Link link, Frame.BindFail fail) {
        link.protocolViolation("unexpected BIND_FAIL");
    }

    /** The link is up (authenticated). */
    default void onUp(Link link) {
    }

    /** The link is gone; its channels have already been closed. */
    default void onClosed(Link link) {
    }
}
