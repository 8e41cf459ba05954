/**
 * Transport selection: io_uring, epoll or NIO, chosen once per node and injected. Depends on Netty only.
 */
package io.sdt.core.transport;
