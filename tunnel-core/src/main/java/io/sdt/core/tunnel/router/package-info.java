/**
 * Router mode over the link: the {@code -D} and reverse {@code -R PORT} listeners, which put the
 * SOCKS5 / HTTP CONNECT front end of {@code io.sdt.core.tunnel.router.proxy} on each accepted socket and open
 * link channels to the targets customers name. Depends on {@code link}, {@code tunnel.tcp}, {@code tunnel.udp}.
 */
package io.sdt.core.tunnel.router;
