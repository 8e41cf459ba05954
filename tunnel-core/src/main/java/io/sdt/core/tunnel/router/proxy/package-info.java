/**
 * Router mode's customer side: SOCKS5 and HTTP CONNECT on one port, SOCKS5 UDP associations, and the
 * {@link io.sdt.core.tunnel.router.proxy.ProxyBackend} they ask for streams. Depends on Netty and {@code io.sdt.codec} only.
 */
package io.sdt.core.tunnel.router.proxy;
