/**
 * Datagram channels, used by forward UDP, UDP push and router UDP flows: {@link io.sdt.core.tunnel.datagram.UdpIngress}
 * keeps one channel per source tuple (or one for all, one way) in a Caffeine table with idle expiry and a
 * cap; {@link io.sdt.core.tunnel.datagram.UdpEgress} opens one connected socket per channel towards the
 * target, with UDP GSO where the kernel has it. UDP never waits: what cannot be queued is dropped and
 * counted. Depends on {@code tunnel}, {@code link}, {@code metrics}, {@code transport} and the codec.
 */
package io.sdt.core.tunnel.datagram;
