/**
 * Router mode's customer side: SOCKS5 (RFC 1928, 1929) and HTTP CONNECT on one port, SOCKS5 UDP
 * associations, and the {@link io.sdt.core.tunnel.router.proxy.ProxyBackend} they ask for streams.
 * Knows nothing of links: depends on Netty and the codec's address type only.
 */
package io.sdt.core.tunnel.router.proxy;
