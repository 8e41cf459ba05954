package io.sdt.core.link;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.FrameDecoder;
import io.sdt.codec.FrameEncoder;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.atomic.AtomicInteger;

/** Builds the link pipelines of {@link PipelineNames} for the accepting and the dialing side. */
public final class LinkPipelines {

    private static final Logger log = LogManager.getLogger(LinkPipelines.class);

    private LinkPipelines() {
    }

    /**
     * The pipeline of an accepted link connection. Connections beyond
     * {@link LinkSettings#maxUnauthenticated()} concurrent unauthenticated ones are closed at once.
     */
    public static ChannelInitializer<Channel> server(TlsSetup.ServerTls tls, Token token, LinkSettings settings,
                                                     NodeStats stats, LinkHooks hooks, AtomicInteger unauthenticated) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (unauthenticated.incrementAndGet() > settings.maxUnauthenticated()) {
                    unauthenticated.decrementAndGet();
                    stats.handshakeFailure();
                    log.warn("refusing {}: {} connections are already waiting to authenticate", ch.remoteAddress(),
                            settings.maxUnauthenticated());
                    ch.close();
                    return;
                }
                SslHandler ssl = tls.context().newHandler(ch.alloc());
                ssl.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
                ChannelPipeline p = ch.pipeline();
                p.addLast(PipelineNames.TLS, ssl);
                p.addLast(PipelineNames.FRAME_DECODER, new FrameDecoder(settings.maxFrameLength()));
                p.addLast(PipelineNames.FRAME_ENCODER, FrameEncoder.INSTANCE);
                p.addLast(PipelineNames.AUTH, new ServerHandshakeHandler(token,
                        Proofs.serverEndPoint(tls.leafCertificate()), settings, stats, hooks,
                        unauthenticated::decrementAndGet));
            }
        };
    }

    /** The pipeline of a dialed link connection; {@code result} completes once authenticated. */
    public static ChannelInitializer<Channel> client(SslContext ssl, String host, int port, Token token,
                                                     LinkSettings settings, NodeStats stats, LinkHooks hooks,
                                                     Promise<Link> result) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                tls.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
                ChannelPipeline p = ch.pipeline();
                p.addLast(PipelineNames.TLS, tls);
                p.addLast(PipelineNames.FRAME_DECODER, new FrameDecoder(settings.maxFrameLength()));
                p.addLast(PipelineNames.FRAME_ENCODER, FrameEncoder.INSTANCE);
                p.addLast(PipelineNames.AUTH, new ClientHandshakeHandler(token, settings, stats, hooks, result));
            }
        };
    }
}
