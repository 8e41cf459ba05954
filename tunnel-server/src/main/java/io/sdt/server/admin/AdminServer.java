package io.sdt.server.admin;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.internal.PlatformDependent;
import io.sdt.codec.HostPort;
import io.sdt.core.transport.Transport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The {@code --admin} HTTP/1.1 server of one node (the dashboard and its JSON, Prometheus metrics, health), on its own single-thread event loop group so a
 * scrape never delays the data path. Owns the node's {@link PrometheusMeterRegistry}. Start it after
 * the node, close it before; {@link #close()} is idempotent.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(AdminServer.class);
    /** Requests are bodiless GETs; anything bigger is refused by the aggregator with 413. */
    static final int MAX_REQUEST_BODY = 4096;
    private static final int IDLE_SECONDS = 60;

    private final HostPort address;
    private final Transport transport;
    private final NodeView node;
    private final AdminToken token;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private EventLoopGroup group;
    private Channel listener;

    /** An endpoint open to whoever reaches its address. */
    public AdminServer(HostPort address, Transport transport, NodeView node) {
        this(address, transport, node, null);
    }

    /**
     * @param token what every request but {@code /healthz} must carry ({@code --admin-token-file}), or
     *              {@code null} for none
     * @throws IllegalArgumentException if the token is empty
     */
    public AdminServer(HostPort address, Transport transport, NodeView node, String token) {
        this.address = address;
        this.transport = transport;
        this.node = node;
        this.token = token == null ? null : new AdminToken(token);
    }

    /**
     * Binds the meters and the listener.
     *
     * @return the bound address (with the real port when 0 was asked for)
     * @throws IllegalStateException if the address cannot be bound
     */
    public InetSocketAddress start() {
        new NodeMeterBinder(node).bindTo(registry);
        registry.getPrometheusRegistry().register(new OpenLatencyCollector(node.stats()));
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            new NettyAllocatorMetrics(provider).bindTo(registry);
        }
        Gauge.builder("sdt.netty.direct.memory.used", PlatformDependent::usedDirectMemory)
                .description("Direct memory Netty has allocated (-1 if not tracked)")
                .baseUnit(BaseUnits.BYTES).register(registry);

        group = transport.newGroup(1, new DefaultThreadFactory("sdt-admin"));
        try {
            ServerBootstrap b = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("idle", new ReadTimeoutHandler(IDLE_SECONDS))
                                    .addLast("http", new HttpServerCodec())
                                    .addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY))
                                    .addLast("admin", new AdminHandler(node, registry, token));
                        }
                    });
            listener = b.bind(address.toSocketAddress()).sync().channel();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("--admin " + address + ": cannot listen: " + e.getMessage(), e);
        }
        InetSocketAddress bound = (InetSocketAddress) listener.localAddress();
        log.info("admin listening on {}", HostPort.of(bound));
        return bound;
    }

    /** The bound address; only after {@link #start()}. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        if (group == null) {
            return;
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        group = null;
        gc.close();
        registry.close();
    }
}
