package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.NetUtil;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * HTTP CONNECT (RFC 9110 §9.3.6): one request head of at most {@link #MAX_HEAD} bytes, lines ended
 * by CRLF (a bare LF is accepted), {@code CONNECT host:port HTTP/1.x} with IPv6 literals in brackets.
 *
 * <p>Answers, each followed by a close: 400 for a malformed request line, header or target (no port,
 * port 0, an unbracketed IPv6 literal, a name {@link HostPort} rejects); 431 for a head that does not
 * end within 8 KiB; 405 with {@code Allow: CONNECT} for any other method, including absolute-URI
 * requests ({@code GET http://...}): this router relays streams only and never acts as an HTTP
 * forward proxy, which would need an HTTP client and response parsing here; 407 with
 * {@code Proxy-Authenticate: Basic realm="sdt"} when a {@link ProxyAuth} is set and the request has
 * no or wrong {@code Proxy-Authorization: Basic}. Credentials are checked before the target.
 * The whole head is read before any answer, so the customer is not reset while still sending it.
 *
 * <p>Confined to the socket's event loop; responses are allocated here and released by the write.
 */
final class HttpConnectHandshake extends Handshake {

    /** Largest request head, request line and headers and the empty line included. */
    static final int MAX_HEAD = 8192;
    private static final byte[] ESTABLISHED =
            "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Bytes of the head already searched for its end, so that tiny reads do not rescan it. */
    private int scanned;
    private boolean done;

    HttpConnectHandshake(RouterFrontend frontend) {
        super(frontend);
    }

    @Override
    void decode(ByteBuf in) {
        if (done) {
            return;
        }
        int length = headLength(in);
        if (length < 0) {
            if (in.readableBytes() >= MAX_HEAD) {
                reject(431, "Request Header Fields Too Large", "", "request head over " + MAX_HEAD + " bytes");
            }
            return;
        }
        String head = in.toString(in.readerIndex(), length, StandardCharsets.ISO_8859_1);
        in.skipBytes(length);
        String[] lines = head.split("\r?\n", -1);
        String[] start = lines[0].split(" ", -1);
        if (start.length != 3 || start[0].isEmpty() || start[1].isEmpty()
                || !(start[2].equals("HTTP/1.1") || start[2].equals("HTTP/1.0")) || !clean(lines[0])) {
            reject(400, "Bad Request", "", "bad request line");
            return;
        }
        if (!start[0].equals("CONNECT")) {
            frontend.stats().unsupportedCommand();
            finish(() -> frontend.refuse(response(405, "Method Not Allowed", "Allow: CONNECT\r\n")));
            return;
        }
        String authorization = null;
        // lines end with the two empty strings of the final CRLF CRLF
        for (int i = 1; i < lines.length - 2; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon <= 0 || !clean(line) || line.charAt(0) == ' ' || line.charAt(0) == '\t'
                    || line.substring(0, colon).indexOf(' ') >= 0 || line.substring(0, colon).indexOf('\t') >= 0) {
                reject(400, "Bad Request", "", "bad header line");
                return;
            }
            if (line.substring(0, colon).equalsIgnoreCase("Proxy-Authorization")) {
                if (authorization != null) {
                    reject(400, "Bad Request", "", "two Proxy-Authorization headers");
                    return;
                }
                authorization = line.substring(colon + 1).strip();
            }
        }
        ProxyAuth auth = frontend.auth();
        if (auth != null && (authorization == null || !basicMatches(auth, authorization))) {
            if (authorization != null) {
                frontend.stats().authFailed();
            }
            finish(() -> frontend.refuse(response(407, "Proxy Authentication Required",
                    "Proxy-Authenticate: Basic realm=\"sdt\"\r\n")));
            return;
        }
        HostPort target = authority(start[1]);
        if (target == null) {
            reject(400, "Bad Request", "", "bad CONNECT target");
            return;
        }
        finish(() -> frontend.connect(target));
    }

    /** Bytes up to and including the empty line ending the head, or -1 if it has not arrived. */
    private int headLength(ByteBuf in) {
        int r = in.readerIndex();
        int limit = Math.min(in.readableBytes(), MAX_HEAD);
        for (int i = Math.max(1, scanned); i < limit; i++) {
            if (in.getByte(r + i) == '\n') {
                byte prev = in.getByte(r + i - 1);
                if (prev == '\n' || prev == '\r' && i >= 2 && in.getByte(r + i - 2) == '\n') {
                    return i + 1;
                }
            }
        }
        scanned = limit;
        return -1;
    }

    /** True if the line has no control characters other than tab (a bare CR is rejected too). */
    private static boolean clean(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static boolean basicMatches(ProxyAuth auth, String value) {
        int sp = value.indexOf(' ');
        if (sp < 0 || !value.substring(0, sp).equalsIgnoreCase("Basic")) {
            return false;
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(value.substring(sp + 1).strip());
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = -1;
        for (int i = 0; i < decoded.length && colon < 0; i++) {
            colon = decoded[i] == ':' ? i : -1;
        }
        if (colon < 0) {
            return false;
        }
        byte[] user = Arrays.copyOfRange(decoded, 0, colon);
        byte[] pass = Arrays.copyOfRange(decoded, colon + 1, decoded.length);
        return auth.matches(user, pass);
    }

    /** {@code host:port} or {@code [v6]:port}; {@code null} if malformed. IPv6 comes out in RFC 5952 form. */
    static HostPort authority(String target) {
        String host;
        String port;
        if (target.startsWith("[")) {
            int close = target.indexOf(']');
            if (close < 0 || close + 1 >= target.length() || target.charAt(close + 1) != ':') {
                return null;
            }
            host = target.substring(1, close);
            if (host.indexOf('%') >= 0 || !NetUtil.isValidIpV6Address(host)) {
                return null;
            }
            host = NetUtil.bytesToIpAddress(NetUtil.createByteArrayFromIpAddressString(host));
            port = target.substring(close + 2);
        } else {
            int colon = target.lastIndexOf(':');
            if (colon <= 0 || target.lastIndexOf(':', colon - 1) >= 0) {
                return null;
            }
            host = target.substring(0, colon);
            port = target.substring(colon + 1);
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        int p = Integer.parseInt(port);
        if (p == 0 || p > 65535) {
            return null;
        }
        try {
            return new HostPort(host, p);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void reject(int status, String reason, String headers, String why) {
        frontend.stats().malformed();
        frontend.debug(why);
        finish(() -> frontend.refuse(response(status, reason, headers)));
    }

    private void finish(Runnable last) {
        done = true;
        last.run();
    }

    @Override
    ByteBuf success(SocketAddress bound) {
        return frontend.alloc().buffer(ESTABLISHED.length).writeBytes(ESTABLISHED);
    }

    @Override
    ByteBuf refusal(ErrorCode code) {
        return switch (code) {
            case DENIED -> response(403, "Forbidden", "");
            case TIMEOUT -> response(504, "Gateway Timeout", "");
            case LIMIT, SHUTDOWN -> response(503, "Service Unavailable", "");
            default -> response(502, "Bad Gateway", "");
        };
    }

    private ByteBuf response(int status, String reason, String headers) {
        String text = "HTTP/1.1 " + status + " " + reason + "\r\n" + headers
                + "Content-Length: 0\r\nConnection: close\r\n\r\n";
        ByteBuf b = frontend.alloc().buffer(text.length());
        ByteBufUtil.writeAscii(b, text);
        return b;
    }
}
