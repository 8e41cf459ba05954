/**
 * RELP, rsyslog's Reliable Event Logging Protocol (librelp's {@code doc/relp.md}), as far as a push
 * tunnel needs it: the frame format ({@link io.sdt.core.tunnel.push.relp.RelpFrame},
 * {@link io.sdt.core.tunnel.push.relp.RelpDecoder}), the server side of a session that an ingress
 * runs towards its producers ({@link io.sdt.core.tunnel.push.relp.RelpServer}) and the client side
 * that an egress runs towards its log server ({@link io.sdt.core.tunnel.push.relp.RelpClient}).
 * Knows nothing of ours: Netty and the JDK only.
 */
package io.sdt.core.tunnel.push.relp;
