/**
 * The L3 VPN ({@code --vpn}): IP packets between a TUN device on each node, one vpn channel per client,
 * addresses from the server's pools, deny-by-default routing. A node-level feature beside the tunnels (no
 * listener, no {@code TunnelMode}); uses the codec, the link and the TUN device ({@code io.sdt.core.tun}) only.
 */
package io.sdt.core.tunnel.vpn;
