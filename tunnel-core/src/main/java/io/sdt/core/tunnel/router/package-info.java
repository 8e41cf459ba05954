/**
 * Router mode ({@code -D} and reverse {@code -R PORT}): {@link io.sdt.core.tunnel.router.RouterMode} puts
 * the SOCKS5 / HTTP CONNECT front end of {@code router.proxy} on each accepted socket and opens link
 * channels to the targets customers name (streams for CONNECT, datagram flows for UDP ASSOCIATE).
 * Depends on {@code router.proxy}, {@code stream}, {@code datagram}, {@code tunnel}, {@code link},
 * {@code metrics}, {@code transport} and the codec.
 */
package io.sdt.core.tunnel.router;
