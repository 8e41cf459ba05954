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
import io.sdt.core.secret.Nonces;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds the link pipelines of {@link PipelineNames} for the accepting and the dialing side of one node:
 * what every link of the node shares (token, settings, counters, hooks, the nonce source) is given once.
 * Create it on the thread that starts the node: it seeds the node's {@link Nonces} source, which must
 * not happen on an event loop.
 */
public final class LinkPipelines {

    private static final Logger log = LogManager.getLogger(LinkPipelines.class);

    private final Token token;
    private final LinkSettings settings;
    private final NodeStats stats;
    private final LinkHooks hooks;
    private final SecureRandom random = Nonces.source();

    public LinkPipelines(Token token, LinkSettings settings, NodeStats stats, LinkHooks hooks) {
        this.token = token;
        this.settings = settings;
        this.stats = stats;
        this.hooks = hooks;
    }

    /**
     * The pipeline of an accepted link connection. Connections beyond
     * {@link LinkSettings#maxUnauthenticated()} concurrent unauthenticated ones are closed at once.
     */
    public ChannelInitializer<Channel> server(TlsSetup.ServerTls tls, AtomicInteger unauthenticated) {
        byte[] binding = Proofs.serverEndPoint(tls.leafCertificate());
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
                frames(ch.pipeline(), ssl).addLast(PipelineNames.AUTH, new ServerHandshakeHandler(token, random, binding,
                        settings, stats, hooks, unauthenticated::decrementAndGet));
            }
        };
    }

    /** The pipeline of a dialed link connection; {@code result} completes once authenticated. */
    public ChannelInitializer<Channel> client(SslContext ssl, String host, int port, Promise<Link> result) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                tls.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
                frames(ch.pipeline(), tls).addLast(PipelineNames.AUTH,
                        new ClientHandshakeHandler(token, random, settings, stats, hooks, result));
            }
        };
    }

    private ChannelPipeline frames(ChannelPipeline p, SslHandler tls) {
        return p.addLast(PipelineNames.TLS, tls)
                .addLast(PipelineNames.FRAME_DECODER, new FrameDecoder(settings.maxFrameLength()))
                .addLast(PipelineNames.FRAME_ENCODER, FrameEncoder.INSTANCE);
    }
}
