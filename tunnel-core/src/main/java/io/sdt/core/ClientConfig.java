package io.sdt.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.codec.HostPort;
import io.sdt.core.link.EgressProxy;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.WebSocketLink;
import io.sdt.core.link.Token;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import io.sdt.core.tunnel.router.proxy.ProxyAuth;
import io.sdt.core.tunnel.vpn.VpnSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A client's validated configuration ({@code sdt client}): the servers to dial, the token, its tunnels,
 * TLS, transport, link settings and reconnect backoff, and the policy for channels that exit here.
 *
 * @param servers    the servers this client keeps links to, at least one ({@code --server}, repeatable): new
 *                   channels go to the link with the fewest, remote listeners are bound on every server
 * @param links      links per server ({@code --links}), at least 1
 * @param ticker     the clock of UDP tuple expiry (tests inject a fake one)
 * @param exitPolicy targets the server may ask this client to connect to for a reverse dynamic
 *                   tunnel ({@code -R PORT}); required (non-empty) when there is one
 * @param proxyAuth  SOCKS5 / HTTP CONNECT credentials customers of {@code -D} must give, or {@code null}
 * @param pushStateDir {@code push.spool_dir}: where this node keeps what its push egresses ({@code -R ...,push})
 *                   delivered, or {@code null} to keep it in memory
 * @param vpn        the L3 VPN ({@code --vpn}), or {@code null} for none
 */
public record ClientConfig(List<Endpoint> servers, int links, Token token, List<TunnelSpec> tunnels,
                           TlsSetup.ClientOptions tls, Transport transport, LinkSettings settings, Duration reconnectMin,
                           Duration reconnectMax, int threads, Ticker ticker, Policy exitPolicy,
                           ProxyAuth proxyAuth, Path pushStateDir, VpnSettings.Client vpn) {

    /** The most links one client keeps in all ({@code servers x links}). */
    public static final int MAX_LINKS = 64;

    /**
     * One server a client dials.
     *
     * @param address   where the link's TCP connection goes (a WebSocket URL's host and port)
     * @param webSocket the WebSocket URL the link runs through ({@code --server ws://...}), or {@code null} for a
     *                  raw link
     * @param proxy     the proxy the link is dialed through ({@code --proxy}), or {@code null} to dial directly
     */
    public record Endpoint(HostPort address, WebSocketLink.Url webSocket, EgressProxy proxy) {
        public Endpoint {
            Objects.requireNonNull(address, "address");
        }

        /** A raw link to {@code host:port}, dialed directly. */
        public static Endpoint of(HostPort address) {
            return new Endpoint(address, null, null);
        }

        /** {@code HOST:PORT} or the WebSocket URL, as the operator wrote it; the server's name in logs. */
        @Override
        public String toString() {
            return webSocket != null ? webSocket.toString() : address.toString();
        }
    }

    public ClientConfig {
        if (exitPolicy == null) {
            exitPolicy = Policy.denyAll();
        }
        requireExits(tunnels, exitPolicy);
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a server address is required");
        }
        if (servers.stream().map(Endpoint::toString).distinct().count() < servers.size()) {
            throw new IllegalArgumentException("a server is given twice: " + servers
                    + " (use --links N for several links to one server)");
        }
        if (links < 1 || (long) links * servers.size() > MAX_LINKS) {
            throw new IllegalArgumentException("links per server must be 1 to " + MAX_LINKS / servers.size()
                    + " with " + servers.size() + " server(s), got " + links);
        }
        if (vpn != null && links * servers.size() > 1) {
            throw new IllegalArgumentException("the VPN runs over one link: give one server and no --links");
        }
        Objects.requireNonNull(token, "token");
        tunnels = List.copyOf(tunnels);
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(settings, "settings");
        if (reconnectMin.isNegative() || reconnectMin.isZero() || reconnectMax.compareTo(reconnectMin) < 0) {
            throw new IllegalArgumentException("reconnect backoff must satisfy 0 < min <= max");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1");
        }
        if (ticker == null) {
            ticker = Ticker.systemTicker();
        }
    }

    /** The first server (the only one, for most clients). */
    public Endpoint server() {
        return servers.getFirst();
    }

    /**
     * Checks that a reverse dynamic tunnel ({@code -R PORT}), whose customers exit at this client, comes
     * with exit rules.
     *
     * @throws IllegalArgumentException if there is one and {@code exits} has no rule
     */
    static void requireExits(List<TunnelSpec> tunnels, Policy exits) {
        boolean reverseDynamic = tunnels.stream()
                .anyMatch(t -> t.dynamic() && t.direction() == TunnelSpec.Direction.REMOTE);
        if (reverseDynamic && exits.rules().isEmpty()) {
            throw new IllegalArgumentException("-R with only a port (reverse dynamic) exits at this client: give "
                    + "--allow-target rules for the targets its customers may reach");
        }
    }

    /** Fluent construction of a {@link ClientConfig}; every setter validates its input. */
    public static final class Builder extends NodeBuilder<Builder> {
        private final List<Endpoint> servers = new ArrayList<>();
        private int links = 1;
        private final List<TunnelSpec> tunnels = new ArrayList<>();
        private TlsSetup.ClientOptions tls = TlsSetup.ClientOptions.DEFAULT;
        private Duration reconnectMin = Duration.ofMillis(200);
        private Duration reconnectMax = Duration.ofSeconds(10);
        private final List<PolicyRule> exitRules = new ArrayList<>();
        private ProxyAuth proxyAuth;
        private VpnSettings.Client vpn;
        private EgressProxy proxy;

        public Builder() {
            super(1);
        }

        /** Adds a {@code -D [BIND_ADDR:]PORT} SOCKS5 / HTTP CONNECT listener ({@link TunnelSpecParser#parseDynamic}). */
        public Builder dynamic(String spec) {
            tunnels.add(TunnelSpecParser.parseDynamic(spec));
            return this;
        }

        /** Allows reverse dynamic customers to reach targets matching {@code rule} (see {@link PolicyRule}). */
        public Builder allowTarget(String rule) {
            exitRules.add(PolicyRule.parse("--allow-target", rule));
            return this;
        }

        /** Credentials that customers of the {@code -D} listeners must give; {@code null} for none. */
        public Builder proxyAuth(ProxyAuth auth) {
            this.proxyAuth = auth;
            return this;
        }

        /** Dials this server only (replaces any given before). */
        public Builder server(String host, int port) {
            return server(new HostPort(host, port));
        }

        /** Dials this server only (replaces any given before). */
        public Builder server(HostPort server) {
            servers.clear();
            servers.add(Endpoint.of(server));
            return this;
        }

        /** Dials {@code server} too: one more server to keep links to. */
        public Builder addServer(HostPort server) {
            servers.add(Endpoint.of(server));
            return this;
        }

        /** Dials these servers (replaces any given before). */
        public Builder servers(List<Endpoint> endpoints) {
            servers.clear();
            servers.addAll(endpoints);
            return this;
        }

        /** Keeps {@code n} links to each server. */
        public Builder links(int n) {
            this.links = n;
            return this;
        }

        /** Adds a tunnel from its SPEC text ({@link TunnelSpecParser#parse}). */
        public Builder forward(TunnelSpec.Direction direction, String spec) {
            tunnels.add(TunnelSpecParser.parse(direction, spec));
            return this;
        }

        public Builder forward(TunnelSpec spec) {
            tunnels.add(spec);
            return this;
        }

        /** Dials only a server behind a WebSocket at {@code url} (replaces any server given before). */
        public Builder webSocket(String url) {
            WebSocketLink.Url ws = WebSocketLink.Url.parse(url);
            servers.clear();
            servers.add(new Endpoint(ws.address(), ws, null));
            return this;
        }

        /** Dials every server that has no proxy of its own through {@code proxy} ({@code null}: directly). */
        public Builder proxy(EgressProxy proxy) {
            this.proxy = proxy;
            return this;
        }

        public Builder vpn(VpnSettings.Client vpn) {
            this.vpn = vpn;
            return this;
        }

        public Builder tls(TlsSetup.ClientOptions tls) {
            this.tls = tls;
            return this;
        }

        public Builder reconnect(Duration min, Duration max) {
            this.reconnectMin = min;
            this.reconnectMax = max;
            return this;
        }

        public ClientConfig config() {
            List<Endpoint> endpoints = servers.stream()
                    .map(e -> e.proxy() == null && proxy != null ? new Endpoint(e.address(), e.webSocket(), proxy) : e)
                    .toList();
            return new ClientConfig(endpoints, links, requireToken(), tunnels, tls, transport, settings, reconnectMin,
                    reconnectMax, threads, ticker, Policy.of(exitRules), proxyAuth, pushStateDir, vpn);
        }

        public SdtClient build() {
            return new SdtClient(config());
        }
    }
}
