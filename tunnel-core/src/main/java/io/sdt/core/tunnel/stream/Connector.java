package io.sdt.core.tunnel.stream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.transport.Outbound;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/**
 * The egress half of a stream channel's setup: connects a local socket to the target on the link's event
 * loop (names resolved by the node's non-blocking resolver), and says why a connect failed in the terms
 * OPEN_FAIL carries, from which the ingress picks its customer's refusal (SOCKS5 reply, HTTP status).
 */
final class Connector {

    private Connector() {
    }

    /** Starts connecting a socket with {@code handler} to {@code target}; the socket shares the link's loop. */
    static ChannelFuture connect(Link link, HostPort target, Outbound outbound, ChannelHandler handler) {
        Bootstrap b = new Bootstrap().group(link.eventLoop()).channel(outbound.transport().socketChannel())
                .resolver(outbound.resolver())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) link.settings().connectTimeout().toMillis())
                .handler(handler);
        LocalSockets.configure(b, link.settings());
        return b.connect(target.toSocketAddress());
    }

    /** The OPEN_FAIL code of a failed connect: timeout, refused, unreachable (no route, no such name) or general. */
    static ErrorCode errorCode(Throwable cause) {
        return switch (cause) {
            case ConnectTimeoutException e -> ErrorCode.TIMEOUT;
            case ConnectException e -> ErrorCode.REFUSED;
            case NoRouteToHostException e -> ErrorCode.UNREACHABLE;
            case UnknownHostException e -> ErrorCode.UNREACHABLE;
            default -> ErrorCode.GENERAL;
        };
    }

    /** The OPEN_FAIL message of a failed connect. */
    static String message(HostPort target, Throwable cause) {
        return "connect to " + target + " failed: "
                + (cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName());
    }
}
