package io.sdt.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.codec.HostPort;
import io.sdt.codec.IpPrefix;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.Token;
import io.sdt.core.policy.Policy;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.vpn.VpnSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A server's validated configuration ({@code sdt server}): where it listens for links, the token, the
 * policy for its clients' targets and listeners (both deny by default), TLS, transport and link settings.
 *
 * @param ticker       the clock of UDP tuple expiry (tests inject a fake one)
 * @param pushStateDir {@code push.spool_dir}: where this node keeps what its push egresses delivered,
 *                     so a restart does not deliver a resent record twice; {@code null} keeps it in memory
 * @param vpn          the L3 VPN ({@code --vpn}), or {@code null} for none
 * @param webSocketPath the path where the link port takes WebSocket upgrades ({@code --ws-path}), or
 *                     {@code null} for raw links only
 * @param proxyProtocol the load balancers whose connections start with a PROXY protocol header
 *                     ({@code --accept-proxy-protocol}); empty: none
 */
public record ServerConfig(HostPort listen, Token token, Policy allowTarget, Policy allowBind,
                           TlsSetup.ServerOptions tls, Transport transport, LinkSettings settings, int threads,
                           Ticker ticker, Path pushStateDir, VpnSettings.Server vpn, List<IpPrefix> proxyProtocol,
                           String webSocketPath) {
    public ServerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(allowTarget, "allowTarget");
        Objects.requireNonNull(allowBind, "allowBind");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(settings, "settings");
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1");
        }
        if (ticker == null) {
            ticker = Ticker.systemTicker();
        }
        proxyProtocol = proxyProtocol == null ? List.of() : List.copyOf(proxyProtocol);
        if (webSocketPath != null && !webSocketPath.startsWith("/")) {
            throw new IllegalArgumentException("--ws-path " + webSocketPath + ": a path starts with /");
        }
    }

    public ServerConfig(HostPort listen, Token token, Policy allowTarget, Policy allowBind, TlsSetup.ServerOptions tls,
                        Transport transport, LinkSettings settings, int threads) {
        this(listen, token, allowTarget, allowBind, tls, transport, settings, threads, Ticker.systemTicker(), null, null,
                List.of(), null);
    }

    /** Fluent construction of a {@link ServerConfig}; every setter validates its input. */
    public static final class Builder extends NodeBuilder<Builder> {
        private HostPort listen = new HostPort("0.0.0.0", 7000);
        private final List<String> allowTarget = new ArrayList<>();
        private final List<String> allowBind = new ArrayList<>();
        private TlsSetup.ServerOptions tls = TlsSetup.ServerOptions.SELF_SIGNED;
        private VpnSettings.Server vpn;
        private final List<IpPrefix> proxyProtocol = new ArrayList<>();
        private String webSocketPath;

        public Builder() {
            super(Math.min(2, Runtime.getRuntime().availableProcessors()));
        }

        public Builder listen(String host, int port) {
            this.listen = new HostPort(host, port);
            return this;
        }

        public Builder listen(HostPort address) {
            this.listen = address;
            return this;
        }

        public Builder allowTarget(String rule) {
            allowTarget.add(rule);
            return this;
        }

        public Builder allowBind(String rule) {
            allowBind.add(rule);
            return this;
        }

        /** Connections from {@code network} (a CIDR) start with a PROXY protocol header naming the client. */
        public Builder acceptProxyProtocol(String network) {
            proxyProtocol.add(IpPrefix.parse(network));
            return this;
        }

        /** The link port also takes WebSocket upgrades at {@code path}. */
        public Builder webSocketPath(String path) {
            this.webSocketPath = path;
            return this;
        }

        public Builder vpn(VpnSettings.Server vpn) {
            this.vpn = vpn;
            return this;
        }

        public Builder tls(TlsSetup.ServerOptions tls) {
            this.tls = tls;
            return this;
        }

        public Builder handshakeTimeout(Duration timeout) {
            this.settings = settings.withHandshakeTimeout(timeout, settings.maxUnauthenticated());
            return this;
        }

        public ServerConfig config() {
            return new ServerConfig(listen, requireToken(), Policy.parse("--allow-target", allowTarget),
                    Policy.parse("--allow-bind", allowBind), tls, transport, settings, threads, ticker, pushStateDir, vpn,
                    proxyProtocol, webSocketPath);
        }

        public SdtServer build() {
            return new SdtServer(config());
        }
    }
}
