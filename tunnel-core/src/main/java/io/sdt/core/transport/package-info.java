/**
 * The transport (io_uring, epoll or NIO), chosen once per node, and the node's non-blocking DNS resolver.
 * Depends on Netty only.
 */
package io.sdt.core.transport;
