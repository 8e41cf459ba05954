package io.sdt.core.link;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.FrameDecoder;
import io.sdt.codec.FrameEncoder;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.secret.Nonces;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.security.SecureRandom;
import java.time.Duration;

/**
 * Builds the link pipelines of {@link PipelineNames} for the accepting and the dialing side of one node:
 * what every link of the node shares (token, settings, counters, hooks, the nonce source) is given once.
 * Create it on the thread that starts the node: it seeds the node's {@link Nonces} source, which must
 * not happen on an event loop.
 */
public final class LinkPipelines {

    private static final Logger log = LogManager.getLogger(LinkPipelines.class);
    /** An accepted connection that sends nothing for this long is closed; a client sends at once. */
    public static final Duration FIRST_BYTE_TIMEOUT = Duration.ofSeconds(3);

    private final Token token;
    private final LinkSettings settings;
    private final NodeStats stats;
    private final LinkHooks hooks;
    private final SecureRandom random = Nonces.source();
    /** The accepting side's per-connection log lines (refused, dropped, failed before authentication). */
    private final LogBudget noise = LogBudget.perMinute(log, "refused or failed link connections");

    public LinkPipelines(Token token, LinkSettings settings, NodeStats stats, LinkHooks hooks) {
        this.token = token;
        this.settings = settings;
        this.stats = stats;
        this.hooks = hooks;
    }

    /**
     * The pipeline of an accepted link connection, which waits in {@code room} until it has
     * authenticated: the room refuses it or drops another waiting one to make room ({@link WaitingRoom}).
     * {@code proxy} says which balancers put a PROXY protocol header first ({@link ProxyProtocol}).
     */
    public ChannelInitializer<Channel> server(TlsSetup.ServerTls tls, WaitingRoom room, ProxyProtocol proxy,
                                              String webSocketPath) {
        byte[] binding = Proofs.serverEndPoint(tls.leafCertificate());
        Duration firstByte = FIRST_BYTE_TIMEOUT.compareTo(settings.handshakeTimeout()) < 0
                ? FIRST_BYTE_TIMEOUT : settings.handshakeTimeout();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                boolean balanced = proxy.trusted(ch.remoteAddress());
                WaitingRoom.Entry entry = room.enter(ch, balanced);
                if (entry instanceof WaitingRoom.Entry.Refused r) {
                    stats.handshakeFailure();
                    stats.handshakeDropped();
                    noise.log(Level.WARN, "refusing {}: {}", ch.remoteAddress(), r.reason());
                    ch.close();
                    return;
                }
                WaitingRoom.Entry.Admitted admitted = (WaitingRoom.Entry.Admitted) entry;
                if (admitted.dropped() != null) {
                    stats.handshakeFailure();
                    stats.handshakeDropped();
                    noise.log(Level.WARN, "dropping {} to admit {}: {} connections were waiting to authenticate",
                            admitted.dropped().remoteAddress(), ch.remoteAddress(), settings.maxUnauthenticated());
                    admitted.dropped().close();
                }
                WaitingRoom.Ticket ticket = admitted.ticket();
                SslHandler ssl = tls.context().newHandler(ch.alloc());
                ssl.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
                proxy.install(ch.pipeline(), ch, stats, noise);
                if (webSocketPath != null) {
                    ch.pipeline().addLast(WebSocketLink.server(webSocketPath, settings.handshakeTimeout(), noise));
                }
                ch.pipeline().addLast(PipelineNames.FIRST_BYTE, new FirstByteDeadline(ticket, firstByte, stats, noise));
                frames(ch.pipeline(), ssl, settings.maxFrameLength()).addLast(PipelineNames.AUTH,
                        new ServerHandshakeHandler(token, random, binding, settings, stats, hooks, noise,
                                ticket::leave));
            }
        };
    }

    /** Writes the summary of rationed log lines once their window has passed; call it periodically. */
    public void summarizeLogs() {
        noise.summarize();
    }

    /** The pipeline of a dialed link connection; {@code result} completes once authenticated. */
    public ChannelInitializer<Channel> client(SslContext ssl, String host, int port, Promise<Link> result) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler tls = ssl.newHandler(ch.alloc(), host, port);
                tls.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
                frames(ch.pipeline(), tls, settings.maxFrameLength()).addLast(PipelineNames.AUTH,
                        new ClientHandshakeHandler(token, random, settings, stats, hooks, result));
            }
        };
    }

    /**
     * TLS and framing. The link is flushed at most once per turn of its event loop: every channel's frames
     * of one turn (opens, answers, EOFs, data of many channels) go out in as few TLS records and writes as
     * fit, instead of one record and one write(2) per frame ({@link FlushConsolidationHandler}: while the link
     * reads, at the end of the read; otherwise in a task after the turn's I/O).
     */
    static ChannelPipeline frames(ChannelPipeline p, ChannelHandler tls, int maxFrameLength) {
        return p.addLast(PipelineNames.TLS, tls)
                .addLast(PipelineNames.FRAME_DECODER, new FrameDecoder(maxFrameLength))
                .addLast(PipelineNames.FRAME_ENCODER, FrameEncoder.INSTANCE)
                .addLast(PipelineNames.FLUSH, new FlushConsolidationHandler(
                        FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    }
}
