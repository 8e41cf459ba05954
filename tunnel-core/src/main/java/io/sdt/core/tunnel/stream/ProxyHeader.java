package io.sdt.core.tunnel.stream;

import io.netty.channel.Channel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.sdt.codec.HostPort;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The PROXY protocol v2 header an egress writes to its target before the stream (tunnel option
 * {@code ,proxy-protocol}): source = the customer the ingress saw (the OPEN's origin), destination = the
 * target this node connected to, or the unspecified address of the source's family when the two families
 * differ (the header carries one family). An origin that is not an IP address gets a LOCAL header: the
 * target then takes the connection's own addresses. Netty's {@code codec-haproxy} encodes it.
 */
final class ProxyHeader {

    private static final String ENCODER = "proxy-protocol-encoder";

    private ProxyHeader() {
    }

    /** Writes the header to {@code socket} (on its event loop, before anything else is written). */
    static void write(Channel socket, HostPort origin) {
        socket.pipeline().addFirst(ENCODER, HAProxyMessageEncoder.INSTANCE);
        socket.write(message(origin, (InetSocketAddress) socket.remoteAddress()), socket.voidPromise());
        socket.pipeline().remove(ENCODER);
    }

    static HAProxyMessage message(HostPort origin, InetSocketAddress target) {
        if (!origin.isIpLiteral()) {
            return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN,
                    null, null, 0, 0);
        }
        InetAddress source = InetAddress.ofLiteral(origin.host());
        boolean six = source instanceof Inet6Address;
        InetAddress destination = target.getAddress();
        String to = destination != null && (destination instanceof Inet6Address) == six ? destination.getHostAddress()
                : six ? "::" : "0.0.0.0";
        return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                six ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4, source.getHostAddress(), to,
                origin.port(), destination != null && (destination instanceof Inet6Address) == six ? target.getPort() : 0);
    }
}
