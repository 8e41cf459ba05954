/**
 * The link between two nodes: TLS, mutual token authentication, heartbeat, the channel table, frame
 * dispatch and per-channel flow control ({@link io.sdt.core.link.SendWindow},
 * {@link io.sdt.core.link.ReceiveWindow}), and what may sit in front of its TLS: an egress proxy, a
 * WebSocket, a load balancer's PROXY header. Depends on the codec, {@code metrics} and {@code secret};
 * never on tunnels, policy or the node.
 */
package io.sdt.core.link;
