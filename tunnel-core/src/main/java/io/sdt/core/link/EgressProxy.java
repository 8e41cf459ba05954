package io.sdt.core.link;

import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.proxy.ProxyHandler;
import io.netty.handler.proxy.Socks5ProxyHandler;
import io.sdt.codec.HostPort;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The proxy a client dials its server through ({@code --proxy}): an HTTP proxy that takes CONNECT
 * ({@code http://[USER:PASS@]HOST:PORT}) or a SOCKS5 proxy ({@code socks5://} or {@code socks5h://}, both
 * with the server's name resolved by the proxy), with optional credentials (Basic for HTTP, RFC 1929 for
 * SOCKS5). The link's TLS runs inside the tunnel the proxy opens, so the proxy sees only the server's name
 * and port. Netty's {@code handler-proxy} speaks both protocols.
 *
 * <p>Without {@code --proxy}, {@link #fromEnvironment} reads the variables curl reads for an {@code https}
 * URL: {@code HTTPS_PROXY} (or {@code https_proxy}), else {@code ALL_PROXY} ({@code all_proxy}), unless
 * {@code NO_PROXY} ({@code no_proxy}) names the server.
 */
public record EgressProxy(Kind kind, HostPort address, String user, String password) {

    public enum Kind { HTTP, SOCKS5 }

    /** The word for "no proxy, whatever the environment says" in {@code --proxy}. */
    public static final String NONE = "none";

    public EgressProxy {
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("a proxy user needs a password and the other way round");
        }
    }

    /**
     * Parses a proxy URL.
     *
     * @throws IllegalArgumentException saying what is wrong with it (the text is the user's)
     */
    public static EgressProxy parse(String url) {
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a proxy URL: " + redact(url) + " (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        Kind kind = switch (scheme) {
            case "http" -> Kind.HTTP;
            case "socks5", "socks5h" -> Kind.SOCKS5;
            default -> throw new IllegalArgumentException("proxy " + redact(url)
                    + ": the scheme must be http:// (CONNECT) or socks5:// (or socks5h://)");
        };
        if (uri.getHost() == null || uri.getPort() < 1 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("proxy " + redact(url) + ": needs HOST:PORT, e.g. " + scheme
                    + "://proxy.example:" + (kind == Kind.HTTP ? "3128" : "1080"));
        }
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null) {
            throw new IllegalArgumentException("proxy " + redact(url) + ": only scheme, credentials, host and port");
        }
        String user = null;
        String password = null;
        String info = uri.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("proxy " + redact(url) + ": credentials are USER:PASSWORD");
            }
            user = URLDecoder.decode(info.substring(0, colon), StandardCharsets.UTF_8);
            password = URLDecoder.decode(info.substring(colon + 1), StandardCharsets.UTF_8);
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1)
                : uri.getHost();
        return new EgressProxy(kind, new HostPort(host, uri.getPort()), user, password);
    }

    /**
     * The proxy the environment names for a link to {@code server}, or null: {@code HTTPS_PROXY} /
     * {@code https_proxy}, else {@code ALL_PROXY} / {@code all_proxy}; none if {@code NO_PROXY} /
     * {@code no_proxy} matches the server (comma-separated: {@code *}, a host name that matches itself and
     * its subdomains, with or without a leading dot, an IP address, or an IP network in CIDR form).
     *
     * @throws IllegalArgumentException naming the variable if its proxy URL is not valid
     */
    public static EgressProxy fromEnvironment(Map<String, String> env, HostPort server) {
        String name = null;
        for (String n : new String[] {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}) {
            String v = env.get(n);
            if (v != null && !v.isBlank()) {
                name = n;
                break;
            }
        }
        if (name == null) {
            return null;
        }
        String no = env.getOrDefault("NO_PROXY", env.get("no_proxy"));
        if (no != null && excluded(no, server.host())) {
            return null;
        }
        String value = env.get(name).strip();
        try {
            return parse(value.contains("://") ? value : "http://" + value); // curl's default scheme
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    /** Whether the {@code NO_PROXY} list {@code list} names {@code host}. */
    static boolean excluded(String list, String host) {
        String h = host.toLowerCase(Locale.ROOT);
        for (String raw : list.split(",")) {
            String e = raw.strip().toLowerCase(Locale.ROOT);
            if (e.isEmpty()) {
                continue;
            }
            if (e.equals("*")) {
                return true;
            }
            if (e.contains("/") ? inNetwork(h, e) : matchesName(h, e.startsWith(".") ? e.substring(1) : e)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesName(String host, String entry) {
        return host.equals(entry) || host.endsWith("." + entry);
    }

    private static boolean inNetwork(String host, String cidr) {
        int slash = cidr.indexOf('/');
        try {
            byte[] a = InetAddress.ofLiteral(host).getAddress();
            byte[] n = InetAddress.ofLiteral(cidr.substring(0, slash)).getAddress();
            int bits = Integer.parseInt(cidr.substring(slash + 1));
            if (a.length != n.length || bits < 0 || bits > a.length * 8) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >>> (i % 8);
                if ((a[i / 8] & mask) != (n[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (IllegalArgumentException e) {
            return false; // not a network: it matches nothing
        }
    }

    /**
     * A new handler for one connection through this proxy, found at {@code proxy} (its address resolved by
     * the caller, off the event loop). It must be first in the pipeline (the link's TLS follows it); the
     * channel is then connected to the server's address as given, unresolved for a name (with no resolver on
     * the bootstrap: the proxy resolves it), and the handler dials the proxy instead.
     */
    public ProxyHandler handler(InetSocketAddress proxy, Duration timeout) {
        ProxyHandler h = kind == Kind.HTTP
                ? (user == null ? new HttpProxyHandler(proxy) : new HttpProxyHandler(proxy, user, password))
                : (user == null ? new Socks5ProxyHandler(proxy) : new Socks5ProxyHandler(proxy, user, password));
        h.setConnectTimeoutMillis(timeout.toMillis());
        return h;
    }

    /** The URL without the password, for logs and errors. */
    @Override
    public String toString() {
        return (kind == Kind.HTTP ? "http://" : "socks5://") + (user == null ? "" : user + ":***@") + address;
    }

    private static String redact(String url) {
        return url.replaceAll("//([^:/@]*):[^@/]*@", "//$1:***@");
    }
}
