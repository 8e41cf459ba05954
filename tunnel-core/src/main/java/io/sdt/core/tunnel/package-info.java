/**
 * What every tunnel mode shares: the spec and its parser, the {@link io.sdt.core.tunnel.Mode} value, the
 * {@link io.sdt.core.tunnel.TunnelMode} each mode implements, the running {@link io.sdt.core.tunnel.Tunnel}
 * and direct mode's {@link io.sdt.core.tunnel.PeerFilter}. One subpackage per mode ({@code forward},
 * {@code push}, {@code router}); what modes share is in {@code stream} and {@code datagram}. Depends on the
 * codec, {@code link}, {@code metrics}, {@code transport} and {@code router.proxy} (for the router's
 * settings in {@link io.sdt.core.tunnel.IngressContext}); never on a mode's package or the node.
 */
package io.sdt.core.tunnel;
