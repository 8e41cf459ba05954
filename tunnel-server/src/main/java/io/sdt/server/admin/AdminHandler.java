package io.sdt.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
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

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;

import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;

/**
 * Answers one aggregated request: {@code GET /} (the dashboard, with {@code /dashboard.js} and
 * {@code /dashboard.css}), {@code /metrics}, {@code /healthz}, {@code /tunnels}, {@code /links}, {@code /vpn}
 * or {@code /events}; 404 for other paths, 405 for other methods, 400 for a request the decoder rejected or a
 * bad query. With a token ({@code --admin-token-file}) every path but {@code /healthz} needs it, else 401.
 * Runs on the admin event loop; {@link SimpleChannelInboundHandler} releases the request, the encoder the
 * response.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LogManager.getLogger(AdminHandler.class);
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json; charset=utf-8";
    /** The dashboard loads its own script and style and reads this endpoint, nothing else. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    private static final Map<String, Asset> ASSETS = Map.of(
            "/", Asset.load("dashboard.html", "text/html; charset=utf-8"),
            "/dashboard.js", Asset.load("dashboard.js", "text/javascript; charset=utf-8"),
            "/dashboard.css", Asset.load("dashboard.css", "text/css; charset=utf-8"));
    private static final Set<String> API = Set.of("/metrics", "/healthz", "/tunnels", "/links", "/vpn", "/events");

    private final NodeView node;
    private final PrometheusMeterRegistry registry;
    private final AdminToken token;

    /** @param token what requests must carry, or {@code null} for an open endpoint */
    AdminHandler(NodeView node, PrometheusMeterRegistry registry, AdminToken token) {
        this.node = node;
        this.registry = registry;
        this.token = token;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (req.decoderResult().isFailure()) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, TEXT, "bad request\n", false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        if (token != null && !path.equals("/healthz")
                && !token.admits(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            FullHttpResponse res = response(ctx, HttpResponseStatus.UNAUTHORIZED, TEXT,
                    "unauthorized: this endpoint needs its admin token (Authorization: Bearer TOKEN)\n");
            res.headers().add(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"sdt admin\", charset=\"UTF-8\"")
                    .add(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"sdt admin\"");
            send(ctx, res, keepAlive);
            return;
        }
        Asset asset = ASSETS.get(path);
        if (asset == null && !API.contains(path)) {
            respond(ctx, HttpResponseStatus.NOT_FOUND, TEXT, "not found\n", keepAlive);
        } else if (!HttpMethod.GET.equals(req.method())) {
            respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, "method not allowed\n", keepAlive);
        } else if (asset != null) {
            FullHttpResponse res = new DefaultFullHttpResponse(HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(asset.body()));
            headers(res, asset.type(), asset.body().length);
            res.headers().set("Content-Security-Policy", CSP);
            send(ctx, res, keepAlive);
        } else if (path.equals("/metrics")) {
            respond(ctx, HttpResponseStatus.OK, PROMETHEUS_TEXT, registry.scrape(), keepAlive);
        } else if (path.equals("/healthz")) {
            // degraded still serves (200): some of a client's servers are gone, the others carry its channels
            boolean ok = node.healthy().getAsBoolean();
            String degraded = ok ? node.degraded().get() : null;
            respond(ctx, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, TEXT,
                    !ok ? "unavailable\n" : degraded != null ? "degraded: " + degraded + "\n" : "ok\n", keepAlive);
        } else if (path.equals("/tunnels")) {
            respond(ctx, HttpResponseStatus.OK, JSON, TunnelsJson.write(node.tunnels()), keepAlive);
        } else if (path.equals("/vpn")) {
            respond(ctx, HttpResponseStatus.OK, JSON, LinksJson.vpn(node.vpn() != null, node.vpn() != null
                    ? node.vpnPeers().get() : java.util.List.of()), keepAlive);
        } else if (path.equals("/links")) {
            respond(ctx, HttpResponseStatus.OK, JSON, LinksJson.write(node.role(), node.linksWanted(),
                    node.links().get()), keepAlive);
        } else {
            String body;
            try {
                body = EventsJson.write(node.audit(), uri.parameters());
            } catch (IllegalArgumentException e) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, TEXT, "bad query: " + e.getMessage() + "\n", keepAlive);
                return;
            }
            respond(ctx, HttpResponseStatus.OK, JSON, body, keepAlive);
        }
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String body,
                                boolean keepAlive) {
        send(ctx, response(ctx, status, type, body), keepAlive);
    }

    private static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status, String type,
                                             String body) {
        ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
        FullHttpResponse res = new DefaultFullHttpResponse(HTTP_1_1, status, content);
        headers(res, type, content.readableBytes());
        if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
            res.headers().set(HttpHeaderNames.ALLOW, "GET");
        }
        return res;
    }

    private static void headers(FullHttpResponse res, String type, int length) {
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set("X-Content-Type-Options", "nosniff")
                .set("Referrer-Policy", "no-referrer");
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive) {
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(res);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** A file of the dashboard, read from the jar once. */
    private record Asset(byte[] body, String type) {
        static Asset load(String name, String type) {
            try (InputStream in = AdminHandler.class.getResourceAsStream("dashboard/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("dashboard/" + name + " is missing from the jar");
                }
                return new Asset(in.readAllBytes(), type);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection {} failed: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}
