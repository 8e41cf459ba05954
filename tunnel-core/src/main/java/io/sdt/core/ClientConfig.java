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
 * A client's validated configuration ({@code sdt client}): the server to dial, the token, its tunnels,
 * TLS, transport, link settings and reconnect backoff, and the policy for channels that exit here.
 *
 * @param ticker     the clock of UDP tuple expiry (tests inject a fake one)
 * @param exitPolicy targets the server may ask this client to connect to for a reverse dynamic
 *                   tunnel ({@code -R PORT}); required (non-empty) when there is one
 * @param proxyAuth  SOCKS5 / HTTP CONNECT credentials customers of {@code -D} must give, or {@code null}
 * @param pushStateDir {@code push.spool_dir}: where this node keeps what its push egresses ({@code -R ...,push})
 *                   delivered, or {@code null} to keep it in memory
 * @param vpn        the L3 VPN ({@code --vpn}), or {@code null} for none
 * @param proxy      the proxy the link is dialed through ({@code --proxy}), or {@code null} to dial directly
 * @param webSocket  the WebSocket URL the link runs through ({@code --server ws://...}), or {@code null} for a
 *                   raw link to {@code server} (which is then the URL's host and port)
 */
public record ClientConfig(HostPort server, Token token, List<TunnelSpec> tunnels, TlsSetup.ClientOptions tls,
                           Transport transport, LinkSettings settings, Duration reconnectMin,
                           Duration reconnectMax, int threads, Ticker ticker, Policy exitPolicy,
                           ProxyAuth proxyAuth, Path pushStateDir, VpnSettings.Client vpn, EgressProxy proxy,
                           WebSocketLink.Url webSocket) {
    public ClientConfig {
        if (exitPolicy == null) {
            exitPolicy = Policy.denyAll();
        }
        requireExits(tunnels, exitPolicy);
        Objects.requireNonNull(server, "server");
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

    public ClientConfig(HostPort server, Token token, List<TunnelSpec> tunnels, TlsSetup.ClientOptions tls,
                        Transport transport, LinkSettings settings, Duration reconnectMin, Duration reconnectMax,
                        int threads) {
        this(server, token, tunnels, tls, transport, settings, reconnectMin, reconnectMax, threads,
                Ticker.systemTicker(), null, null, null, null, null, null);
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
        private HostPort server;
        private final List<TunnelSpec> tunnels = new ArrayList<>();
        private TlsSetup.ClientOptions tls = TlsSetup.ClientOptions.DEFAULT;
        private Duration reconnectMin = Duration.ofMillis(200);
        private Duration reconnectMax = Duration.ofSeconds(10);
        private final List<PolicyRule> exitRules = new ArrayList<>();
        private ProxyAuth proxyAuth;
        private VpnSettings.Client vpn;
        private EgressProxy proxy;
        private WebSocketLink.Url webSocket;

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

        public Builder server(String host, int port) {
            this.server = new HostPort(host, port);
            return this;
        }

        public Builder server(HostPort server) {
            this.server = server;
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

        /** Runs the link through a WebSocket at {@code url} (its host and port become the server's address). */
        public Builder webSocket(String url) {
            this.webSocket = WebSocketLink.Url.parse(url);
            this.server = webSocket.address();
            return this;
        }

        /** Dials the server through {@code proxy} ({@code null}: directly). */
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
            if (server == null) {
                throw new IllegalArgumentException("a server address is required");
            }
            return new ClientConfig(server, requireToken(), tunnels, tls, transport, settings, reconnectMin, reconnectMax, threads,
                    ticker, Policy.of(exitRules), proxyAuth, pushStateDir, vpn, proxy, webSocket);
        }

        public SdtClient build() {
            return new SdtClient(config());
        }
    }
}
