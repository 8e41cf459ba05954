/**
 * TCP push mode (log shipping): newline-delimited records from any number of inbound connections
 * travel whole, in one channel, to one upstream connection; the egress spools them while the
 * target is away. {@link io.sdt.core.tunnel.push.PushIngress} and {@link io.sdt.core.tunnel.push.PushEgress}
 * run on either node, like the other modes.
 */
package io.sdt.core.tunnel.push;
