package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.HostPort;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The link over WebSocket, for clients that can only reach the server through an HTTP reverse proxy, a
 * CDN or a firewall that passes only web traffic: {@code sdt client --server ws://HOST[:PORT]/PATH} or
 * {@code wss://...}, and {@code --ws-path /PATH} on the server, whose link port then takes WebSocket
 * upgrades beside raw links. Netty's {@code codec-http} does the upgrade and the framing.
 *
 * <p>Inside the WebSocket (binary messages, subprotocol {@code sdt}) runs the link exactly as on a raw
 * connection: its own TLS 1.3 with the sdt server's certificate, the frames, the token proof bound to
 * that inner TLS. So the proof and the tunnel's contents stay end to end whoever terminates the outer
 * layer: a reverse proxy or CDN in front sees the inner TLS's ciphertext only. The server's link port
 * speaks no outer TLS itself: {@code ws://} reaches it directly, and a {@code wss://} URL names a reverse
 * proxy (nginx, HAProxy, a CDN) that terminates TLS and forwards plain WebSocket to the sdt server.
 */
public final class WebSocketLink {

    /** The WebSocket subprotocol both sides name. */
    public static final String SUBPROTOCOL = "sdt";
    /** Largest WebSocket message: one TLS write of the inner link is far smaller. */
    static final int MAX_MESSAGE = 1 << 20;
    private static final byte[] GET = "GET ".getBytes(StandardCharsets.US_ASCII);

    private WebSocketLink() {
    }

    /** A {@code ws://} or {@code wss://} server URL. */
    public record Url(boolean secure, HostPort address, String path) {

        /** Whether {@code text} is meant as a WebSocket URL (rather than HOST:PORT). */
        public static boolean looksLikeOne(String text) {
            String t = text.strip().toLowerCase(Locale.ROOT);
            return t.startsWith("ws://") || t.startsWith("wss://");
        }

        /**
         * Parses {@code ws://HOST[:PORT]/PATH} (port 80 by default) or {@code wss://...} (443).
         *
         * @throws IllegalArgumentException saying what is wrong
         */
        public static Url parse(String text) {
            URI u;
            try {
                u = new URI(text.strip());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("not a WebSocket URL: " + text + " (" + e.getReason() + ")");
            }
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw new IllegalArgumentException(text + ": expected ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH");
            }
            if (u.getHost() == null || u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
                throw new IllegalArgumentException(text + ": expected ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH"
                        + " (no credentials, query or fragment)");
            }
            boolean secure = scheme.equals("wss");
            int port = u.getPort() == -1 ? (secure ? 443 : 80) : u.getPort();
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(text + ": port " + port + " is out of range");
            }
            String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            String host = u.getHost().startsWith("[") ? u.getHost().substring(1, u.getHost().length() - 1) : u.getHost();
            return new Url(secure, new HostPort(host, port), path);
        }

        URI uri() {
            return URI.create((secure ? "wss://" : "ws://") + address + path);
        }

        @Override
        public String toString() {
            return (secure ? "wss://" : "ws://") + address + path;
        }
    }

    /**
     * Client: the outer TLS ({@code wss}, with {@code outer}), the upgrade to {@code url}, then, once the
     * server switched protocols, {@code link} (the link's own pipeline). A refused upgrade or a timeout
     * fails {@code result} with the reason.
     */
    public static void client(ChannelPipeline p, Url url, SslContext outer, ChannelHandler link, Duration timeout,
                       Promise<?> result) {
        if (url.secure()) {
            p.addLast(outer.newHandler(p.channel().alloc(), url.address().host(), url.address().port()));
        }
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(url.uri()).subprotocol(SUBPROTOCOL).maxFramePayloadLength(MAX_MESSAGE)
                .handshakeTimeoutMillis(timeout.toMillis()).dropPongFrames(true).build();
        p.addLast(new HttpClientCodec(), new HttpObjectAggregator(8192),
                new WebSocketClientProtocolHandler(MaskingEncoder.handshaker(config.webSocketUri(), config.subprotocol(),
                        config.customHeaders(), config.maxFramePayloadLength(), config.forceCloseTimeoutMillis()), config),
                new BinaryMessages(), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                            ctx.pipeline().addLast(link); // the link's TLS starts now, inside the WebSocket
                            ctx.pipeline().remove(this);
                        } else if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
                            result.tryFailure(new IOException("no WebSocket upgrade from " + url + " within "
                                    + timeout.toMillis() + " ms"));
                            ctx.close();
                        }
                        ctx.fireUserEventTriggered(evt);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        result.tryFailure(new IOException("WebSocket upgrade at " + url + " failed: "
                                + cause.getMessage(), cause));
                        ctx.close();
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        result.tryFailure(new IOException(url + " closed the connection before the WebSocket upgrade"));
                        ctx.fireChannelInactive();
                    }
                });
    }

    /**
     * Server: the first handler of an accepted link connection when {@code path} is set. A connection that
     * starts with {@code GET } gets the WebSocket upgrade at {@code path} (and the link inside it); anything
     * else is a raw link and passes through untouched.
     */
    static ChannelHandler server(String path, Duration timeout, LogBudget noise) {
        return new Sniffer(path, timeout, noise);
    }

    private static final class Sniffer extends ByteToMessageDecoder {
        private final String path;
        private final Duration timeout;
        private final LogBudget noise;

        Sniffer(String path, Duration timeout, LogBudget noise) {
            this.path = path;
            this.timeout = timeout;
            this.noise = noise;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int n = Math.min(GET.length, in.readableBytes());
            boolean get = true;
            for (int i = 0; i < n; i++) {
                get &= in.getByte(in.readerIndex() + i) == GET[i];
            }
            if (get && n < GET.length) {
                return; // not yet sure
            }
            if (get) {
                String name = ctx.name();
                ctx.pipeline().addAfter(name, "ws-http", new HttpServerCodec())
                        .addAfter("ws-http", "ws-aggregator", new HttpObjectAggregator(8192))
                        .addAfter("ws-aggregator", "ws-refuse", new NotAnUpgrade(path, noise))
                        .addAfter("ws-refuse", "ws-upgrade", new WebSocketServerProtocolHandler(
                                WebSocketServerProtocolConfig.newBuilder().websocketPath(path).subprotocols(SUBPROTOCOL)
                                        .checkStartsWith(false).maxFramePayloadLength(MAX_MESSAGE)
                                        .handshakeTimeoutMillis(timeout.toMillis()).dropPongFrames(true).build()))
                        .addAfter("ws-upgrade", "ws-binary", new BinaryMessages());
            }
            ctx.pipeline().remove(this); // what was read goes on: to HTTP, or to the link's TLS
        }
    }

    /**
     * Lets only a well-formed WebSocket upgrade at the path through to Netty's handshaker; any other HTTP
     * request on the link port is answered here (404 for an upgrade elsewhere, 400 for the rest), then the
     * connection closes. (Answering here, ahead of the link's TLS in the pipeline, is what gets the answer
     * out: a response written from the pipeline's tail would wait in that TLS, which never starts.)
     */
    private static final class NotAnUpgrade extends ChannelInboundHandlerAdapter {
        private final String path;
        private final LogBudget noise;

        NotAnUpgrade(String path, LogBudget noise) {
            this.path = path;
            this.noise = noise;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpRequest request)) {
                ctx.fireChannelRead(msg);
                return;
            }
            String uri = request.uri();
            boolean upgrade = request.headers().containsValue(HttpHeaderNames.UPGRADE, "websocket", true);
            String at = new io.netty.handler.codec.http.QueryStringDecoder(uri).path();
            if (upgrade && at.equals(path) && "13".equals(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))
                    && request.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)
                    && io.netty.handler.codec.http.HttpMethod.GET.equals(request.method())) {
                ctx.fireChannelRead(request); // the handshaker's
                ctx.pipeline().remove(this);
                return;
            }
            upgrade &= !at.equals(path); // at the path but malformed: 400 below
            ReferenceCountUtil.release(request);
            HttpResponseStatus status = upgrade ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.BAD_REQUEST;
            String text = upgrade ? "no WebSocket at " + uri + "\n" : "this port takes sdt links: raw, or WebSocket at "
                    + path + "\n";
            noise.log(org.apache.logging.log4j.Level.INFO, "refusing {}: HTTP {} {} ({})", ctx.channel().remoteAddress(),
                    request.method(), uri, upgrade ? "WebSocket upgrade to another path" : "not a WebSocket upgrade");
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                    .set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Binary WebSocket messages in, their bytes out to the link's TLS; the link's bytes out as binary messages. */
    private static final class BinaryMessages extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame f) {
                ctx.fireChannelRead(f.content().retain());
                f.release();
            } else if (msg instanceof WebSocketFrame f) {
                f.release(); // text or continuation: the link speaks binary only
                ctx.close();
            } else {
                ctx.fireChannelRead(msg);
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf b ? new BinaryWebSocketFrame(b) : msg, promise);
        }
    }
}
