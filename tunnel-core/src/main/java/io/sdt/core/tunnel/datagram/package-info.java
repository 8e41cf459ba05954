/**
 * UDP forwarding, local and remote alike: {@link io.sdt.core.tunnel.datagram.UdpIngress} keeps one channel
 * per source tuple in a Caffeine table with idle expiry and a cap; {@link io.sdt.core.tunnel.datagram.UdpEgress}
 * opens one connected socket per channel towards the target. UDP never waits: what cannot be queued
 * is dropped and counted.
 */
package io.sdt.core.tunnel.datagram;
