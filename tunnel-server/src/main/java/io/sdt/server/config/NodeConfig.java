package io.sdt.server.config;

import io.sdt.core.tunnel.TunnelSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The canonical configuration of one node: what {@code sdt run CONFIG.yaml} reads and
 * {@code --print-config} writes. The {@code sdt server} and {@code sdt client} flags are shorthand
 * that builds one of these. Values are kept as the operator wrote them (a token file's path, not the
 * token) so that printing shows the configuration, not its secrets; {@link NodeSetup} turns it into
 * running objects. Layout and defaults: {@code docs/CONFIG.md}.
 *
 * @param role          {@code node}: server or client
 * @param listen        {@code link.listen}: where a server accepts links ({@code [HOST:]PORT})
 * @param servers       {@code link.server} or {@code link.servers}: the servers a client dials ({@code HOST:PORT} or
 *                      a WebSocket URL each)
 * @param tokenFile     {@code link.token_file}, or {@code null}
 * @param token         {@code link.token}, inline, or {@code null}; neither means env {@code SDT_TOKEN}
 * @param transport     {@code link.transport}
 * @param window        {@code link.window}: per-channel receive window, or {@code null} for the default
 * @param tls           {@code tls.*}
 * @param allowTarget   {@code policy.allow_target}
 * @param allowBind     {@code policy.allow_bind} (server)
 * @param proxyAuthFile {@code policy.proxy_auth_file} (client), or {@code null}
 * @param proxyAuth     {@code policy.proxy_auth}, inline {@code USER:PASSWORD}, or {@code null}
 * @param tunnels       {@code tunnels} (client)
 * @param admin         {@code admin}: {@code [HOST:]PORT} of the admin endpoint, or {@code null}
 * @param logging       {@code logging.*}
 * @param drainTimeout  {@code shutdown.drain_timeout}
 * @param pushStateDir  {@code push.spool_dir}: the node's push state directory (what its push egresses
 *                      delivered, kept across restarts), or {@code null}
 * @param windowMax     {@code link.window_max}: largest a channel's receive window may grow, or {@code null}
 * @param bufferBudget  {@code link.buffer_budget}: most bytes all receive windows may add up to, or {@code null}
 * @param vpn           {@code vpn.*}: the L3 VPN, or {@code null} for none
 * @param acceptProxyProtocol {@code link.accept_proxy_protocol} (server): networks of the load balancers whose
 *                      connections start with a PROXY protocol header
 * @param wsPath        {@code link.ws_path} (server): where the link port takes WebSocket upgrades, or {@code null}
 * @param proxy         {@code link.proxy} (client): the proxy URL the link is dialed through, {@code none}, or
 *                      {@code null} for the environment's ({@code HTTPS_PROXY}, {@code NO_PROXY})
 * @param links         {@code link.links} (client): links to each server, or {@code null} for one
 * @param adminTokenFile {@code admin.token_file}: the file holding the admin endpoint's token, or {@code null} for
 *                      an endpoint without one
 */
public record NodeConfig(Role role, String listen, List<String> servers, Path tokenFile, Secret token, String transport,
                         String window, Tls tls, List<String> allowTarget, List<String> allowBind, Path proxyAuthFile,
                         Secret proxyAuth, List<TunnelSpec> tunnels, String admin, Logging logging,
                         Duration drainTimeout, Path pushStateDir, String windowMax, String bufferBudget, Vpn vpn,
                         String proxy, List<String> acceptProxyProtocol, String wsPath, Integer links,
                         Path adminTokenFile) {

    /**
     * {@code vpn}: the L3 VPN, as written. A server's {@code networks} are its address pools ({@code --vpn
     * CIDR}: one IPv4, one IPv6); a client's are the addresses it asks for ({@code --vpn ADDR/PREFIX}, none:
     * the server chooses). {@code routes} ({@code --vpn-route}): on a server the networks clients may reach,
     * on a client the routes to install instead of the server's. {@code device} ({@code --vpn-dev}) and
     * {@code mtu} (server, {@code vpn.mtu} only) may be {@code null} for the defaults.
     */
    public record Vpn(List<String> networks, List<String> routes, String device, Integer mtu) {
        public Vpn {
            networks = List.copyOf(networks);
            routes = List.copyOf(routes);
        }
    }

    /** How long SIGTERM waits for open channels when the configuration does not say. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    public NodeConfig {
        Objects.requireNonNull(role, "role");
        transport = transport == null ? "auto" : transport;
        tls = tls == null ? Tls.NONE : tls;
        servers = servers == null ? List.of() : List.copyOf(servers);
        allowTarget = List.copyOf(allowTarget);
        allowBind = List.copyOf(allowBind);
        acceptProxyProtocol = acceptProxyProtocol == null ? List.of() : List.copyOf(acceptProxyProtocol);
        tunnels = List.copyOf(tunnels);
        logging = logging == null ? Logging.DEFAULT : logging;
        drainTimeout = drainTimeout == null ? DEFAULT_DRAIN_TIMEOUT : drainTimeout;
    }

    public enum Role {
        SERVER, CLIENT;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * {@code tls}: a server's certificate, key and client CA (mTLS); a client's CA and certificate.
     * All {@code null}: a server makes a self-signed certificate, a client pins nothing beyond the token.
     */
    public record Tls(Path ca, Path cert, Path key, Path clientCa, Path wsCa) {
        public static final Tls NONE = new Tls(null, null, null, null, null);

        public Tls(Path ca, Path cert, Path key, Path clientCa) {
            this(ca, cert, key, clientCa, null);
        }
    }

    /**
     * {@code logging}: the diagnostic log's level and the audit trail's format (text, json or off);
     * {@code null} leaves each to the environment ({@code SDT_LOG_LEVEL}, {@code SDT_AUDIT_FORMAT},
     * {@code SDT_AUDIT_LEVEL}), whose defaults are info and text.
     *
     * @param auditFile     where the audit trail goes instead of stderr ({@code --audit-file}), or {@code null}
     * @param auditFileSize size at which that file rolls over (e.g. {@code 64m}), or {@code null} for the default
     */
    public record Logging(String level, String audit, Path auditFile, String auditFileSize) {
        public static final Logging DEFAULT = new Logging(null, null, null, null);

        public Logging(String level, String audit) {
            this(level, audit, null, null);
        }

        /** Only the audit file, the rest from the environment: what {@code --audit-file} means. */
        public static Logging auditTo(Path file) {
            return file == null ? DEFAULT : new Logging(null, null, file, null);
        }
    }

    /**
     * The keys whose change a running node cannot apply (they shape its link or listeners), named
     * by path, that differ between this configuration and {@code next}.
     */
    public List<String> restartKeys(NodeConfig next) {
        List<String> changed = new java.util.ArrayList<>();
        diff(changed, "node", role, next.role);
        diff(changed, "link.listen", listen, next.listen);
        diff(changed, servers.size() > 1 || next.servers.size() > 1 ? "link.servers" : "link.server", servers,
                next.servers);
        diff(changed, "link.links", links, next.links);
        diff(changed, "link.token_file", tokenFile, next.tokenFile);
        diff(changed, "link.token", token, next.token);
        diff(changed, "link.transport", transport, next.transport);
        diff(changed, "link.window", window, next.window);
        diff(changed, "link.window_max", windowMax, next.windowMax);
        diff(changed, "link.buffer_budget", bufferBudget, next.bufferBudget);
        diff(changed, "link.proxy", proxy, next.proxy);
        diff(changed, "link.accept_proxy_protocol", acceptProxyProtocol, next.acceptProxyProtocol);
        diff(changed, "link.ws_path", wsPath, next.wsPath);
        diff(changed, "tls", tls, next.tls);
        diff(changed, "admin", admin, next.admin);
        diff(changed, "admin.token_file", adminTokenFile, next.adminTokenFile);
        diff(changed, "push.spool_dir", pushStateDir, next.pushStateDir);
        diff(changed, "vpn", vpn, next.vpn);
        return changed;
    }

    private static void diff(List<String> out, String key, Object a, Object b) {
        if (!Objects.equals(a, b)) {
            out.add(key);
        }
    }
}
