/**
 * {@code udp-encap-tun}, the separate program of the seed specification: TCP segments read from a Linux
 * TUN device (polled by Netty's epoll loop) carried as UDP payloads, with a challenge-response
 * authentication over TCP and a 5-minute connection store. Depends on core only for what it shares
 * with the tunnel engine: {@code io.sdt.core.secret} (secret rules and key derivation) and
 * {@code io.sdt.core.tun} (the TUN device); never on the link or tunnel packages.
 */
package io.sdt.encap;
