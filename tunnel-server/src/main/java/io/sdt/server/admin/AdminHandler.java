package io.sdt.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;

/**
 * Answers one aggregated request: {@code GET /metrics}, {@code /healthz} or {@code /tunnels}; 404 for
 * other paths, 405 for other methods, 400 for a request the decoder rejected. Runs on the admin event
 * loop; {@link SimpleChannelInboundHandler} releases the request, the encoder the response.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LogManager.getLogger(AdminHandler.class);
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json; charset=utf-8";

    private final NodeView node;
    private final PrometheusMeterRegistry registry;

    AdminHandler(NodeView node, PrometheusMeterRegistry registry) {
        this.node = node;
        this.registry = registry;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (req.decoderResult().isFailure()) {
            respond(ctx, req, HttpResponseStatus.BAD_REQUEST, TEXT, "bad request\n", false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        String path = new QueryStringDecoder(req.uri()).path();
        boolean known = path.equals("/metrics") || path.equals("/healthz") || path.equals("/tunnels");
        if (!known) {
            respond(ctx, req, HttpResponseStatus.NOT_FOUND, TEXT, "not found\n", keepAlive);
        } else if (!HttpMethod.GET.equals(req.method())) {
            respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, "method not allowed\n", keepAlive);
        } else if (path.equals("/metrics")) {
            respond(ctx, req, HttpResponseStatus.OK, PROMETHEUS_TEXT, registry.scrape(), keepAlive);
        } else if (path.equals("/healthz")) {
            // degraded still serves (200): some of a client's servers are gone, the others carry its channels
            boolean ok = node.healthy().getAsBoolean();
            String degraded = ok ? node.degraded().get() : null;
            respond(ctx, req, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, TEXT,
                    !ok ? "unavailable\n" : degraded != null ? "degraded: " + degraded + "\n" : "ok\n", keepAlive);
        } else {
            respond(ctx, req, HttpResponseStatus.OK, JSON, TunnelsJson.write(node.tunnels()), keepAlive);
        }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status,
                                String type, String body, boolean keepAlive) {
        ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
        FullHttpResponse res = new DefaultFullHttpResponse(HTTP_1_1, status, content);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
            res.headers().set(HttpHeaderNames.ALLOW, "GET");
        }
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(res);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection {} failed: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}
