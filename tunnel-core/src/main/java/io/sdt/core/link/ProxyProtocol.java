package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.IpPrefix;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.Level;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The PROXY protocol (HAProxy's, version 1 or 2) on the server's link listener ({@code
 * --accept-proxy-protocol CIDR...}): a connection from one of the listed load balancers must start with a
 * PROXY header, and the client address it carries is the link's peer from then on (in the link's name, so
 * in logs and in the audit trail). A connection from any other address that starts with a PROXY header is
 * refused: only the listed balancers may speak for someone else. Netty's {@code codec-haproxy} parses the
 * header. A LOCAL header (a balancer's health check) or one for an unknown protocol keeps the balancer's
 * own address, as the protocol says.
 */
public final class ProxyProtocol {

    /** The client a trusted balancer named, on the link's channel. */
    static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("sdt.proxyProtocolClient");
    private static final byte[] V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);

    private final List<IpPrefix> balancers;

    /** {@code balancers}: the networks whose connections carry a PROXY header; none: the protocol is off. */
    public ProxyProtocol(List<IpPrefix> balancers) {
        this.balancers = List.copyOf(balancers);
    }

    public List<IpPrefix> balancers() {
        return balancers;
    }

    /** Whether connections from {@code address} must carry a PROXY header. */
    public boolean trusted(SocketAddress address) {
        if (!(address instanceof InetSocketAddress a) || a.getAddress() == null) {
            return false;
        }
        byte[] raw = a.getAddress().getAddress();
        for (IpPrefix p : balancers) {
            if (p.contains(raw)) {
                return true;
            }
        }
        return false;
    }

    /** The link's peer: the client a trusted balancer named, else the connection's remote address. */
    public static SocketAddress peer(Channel ch) {
        InetSocketAddress named = ch.attr(CLIENT).get();
        return named != null ? named : ch.remoteAddress();
    }

    /** Adds the handlers that read (from a trusted balancer) or refuse (from anyone else) a PROXY header. */
    void install(ChannelPipeline p, Channel ch, NodeStats stats, LogBudget noise) {
        if (trusted(ch.remoteAddress())) {
            p.addLast(new HAProxyMessageDecoder(), new HeaderReader(stats, noise));
        } else {
            p.addLast(new Refuser(stats, noise));
        }
    }

    /** Reads the balancer's header; the bytes after it are the client's TLS. */
    private static final class HeaderReader extends ChannelInboundHandlerAdapter {
        private final NodeStats stats;
        private final LogBudget noise;

        HeaderReader(NodeStats stats, LogBudget noise) {
            this.stats = stats;
            this.noise = noise;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage m)) {
                ctx.fireChannelRead(msg);
                return;
            }
            try {
                HAProxyProxiedProtocol.AddressFamily family = m.proxiedProtocol().addressFamily();
                if (m.command() == HAProxyCommand.PROXY && m.sourceAddress() != null
                        && (family == HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                        || family == HAProxyProxiedProtocol.AddressFamily.AF_IPv6)) {
                    ctx.channel().attr(CLIENT).set(new InetSocketAddress(
                            java.net.InetAddress.ofLiteral(m.sourceAddress()), m.sourcePort()));
                }
            } finally {
                ReferenceCountUtil.release(m);
            }
            ctx.pipeline().remove(this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            stats.handshakeFailure();
            noise.log(Level.WARN, "refusing {}: a balancer listed in --accept-proxy-protocol sent no valid PROXY "
                    + "header: {}", ctx.channel().remoteAddress(), cause.getMessage());
            ctx.close();
        }
    }

    /** Closes a connection from an address not listed that starts with a PROXY header; else steps aside. */
    private static final class Refuser extends ByteToMessageDecoder {
        private final NodeStats stats;
        private final LogBudget noise;

        Refuser(NodeStats stats, LogBudget noise) {
            this.stats = stats;
            this.noise = noise;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            byte[] signature = in.getByte(in.readerIndex()) == V2[0] ? V2 : in.getByte(in.readerIndex()) == V1[0] ? V1 : null;
            int n = signature == null ? 0 : Math.min(signature.length, in.readableBytes());
            for (int i = 0; i < n; i++) {
                if (in.getByte(in.readerIndex() + i) != signature[i]) {
                    signature = null;
                    break;
                }
            }
            if (signature != null && in.readableBytes() < signature.length) {
                return; // not yet sure
            }
            if (signature != null) {
                stats.handshakeFailure();
                noise.log(Level.WARN, "refusing {}: it sent a PROXY protocol header, and --accept-proxy-protocol does "
                        + "not list it", ctx.channel().remoteAddress());
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            ctx.pipeline().remove(this); // what it read goes on to TLS
        }
    }
}
