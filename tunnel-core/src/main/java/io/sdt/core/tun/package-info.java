/**
 * {@code udp-encap-tun}: TCP segments read from a Linux TUN device (opened with FFM, polled by Netty's
 * epoll loop) carried as UDP payloads, with a challenge-response authentication over TCP and a 5-minute
 * connection store. Depends on Netty epoll, Caffeine and Log4j2; never on the link or tunnel packages.
 */
package io.sdt.core.tun;
