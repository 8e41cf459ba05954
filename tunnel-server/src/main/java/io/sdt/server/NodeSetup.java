package io.sdt.server;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.core.ServerConfig;
import io.sdt.core.ClientConfig;
import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.link.EgressProxy;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.WebSocketLink;
import io.sdt.core.link.Token;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.router.proxy.ProxyAuth;
import io.sdt.server.config.ConfigException;
import io.sdt.server.config.NodeConfig;
import io.sdt.codec.IpPrefix;
import io.sdt.core.tunnel.vpn.VpnSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns a {@link NodeConfig} into the objects a node runs on: reads the token and credential files,
 * parses addresses, sizes and policy rules, and collects every problem before anything starts.
 * Problems name the key as the operator wrote it: its YAML path ({@link #FILE}), or its flag
 * ({@link #FLAGS}).
 */
final class NodeSetup {

    /** Problems of a configuration file: led by the key's path. */
    static final Function<String, String> FILE = path -> path;

    /** Problems of a command line: led by the flag that set the key. */
    static final Function<String, String> FLAGS = path -> Map.ofEntries(
            Map.entry("link.listen", "--listen"), Map.entry("link.server", "--server"),
            Map.entry("link.servers", "--server"), Map.entry("link.links", "--links"),
            Map.entry("link.token_file", "--token-file"), Map.entry("link.transport", "--transport"),
            Map.entry("link.window", "--window"), Map.entry("link.window_max", "--window-max"),
            Map.entry("link.buffer_budget", "--buffer-budget"), Map.entry("tls.ca", "--ca"), Map.entry("tls.cert", "--cert"),
            Map.entry("tls.key", "--key"), Map.entry("tls.client_ca", "--client-ca"),
            Map.entry("policy.allow_target", "--allow-target"), Map.entry("policy.allow_bind", "--allow-bind"),
            Map.entry("policy.proxy_auth_file", "--proxy-auth-file"), Map.entry("admin", "--admin"),
            Map.entry("admin.listen", "--admin"), Map.entry("admin.token_file", "--admin-token-file"),
            Map.entry("shutdown.drain_timeout", "--drain-timeout"), Map.entry("vpn.networks", "--vpn"),
            Map.entry("vpn.address", "--vpn"), Map.entry("vpn.routes", "--vpn-route"),
            Map.entry("vpn.device", "--vpn-dev"), Map.entry("link.proxy", "--proxy"),
            Map.entry("link.accept_proxy_protocol", "--accept-proxy-protocol"),
            Map.entry("link.ws_path", "--ws-path"), Map.entry("tls.ws_ca", "--ws-ca")).getOrDefault(path, path);

    private final NodeConfig config;
    private final Function<String, String> names;
    private final Function<String, String> env;
    private final List<String> problems = new ArrayList<>();

    private NodeSetup(NodeConfig config, Function<String, String> names, Function<String, String> env) {
        this.config = config;
        this.names = names;
        this.env = env;
    }

    /** A server's settings; every problem at once in a {@link ConfigException}. */
    static ServerConfig server(NodeConfig config, Function<String, String> names) {
        NodeSetup s = new NodeSetup(config, names, System::getenv);
        s.admin();
        s.adminToken();
        HostPort listen = s.address("link.listen", config.listen(), "0.0.0.0", false);
        Token token = s.token();
        Policy[] policy = s.serverPolicy();
        Transport transport = s.transport();
        LinkSettings settings = s.settings();
        s.tlsPairs();
        s.pushStateDir(config.pushStateDir());
        VpnSettings.Server vpn = s.vpnServer();
        List<IpPrefix> balancers = s.prefixes("link.accept_proxy_protocol", config.acceptProxyProtocol());
        String wsPath = s.wsPath(config.wsPath());
        s.check();
        return new ServerConfig(listen, token, policy[0], policy[1],
                new TlsSetup.ServerOptions(config.tls().cert(), config.tls().key(), config.tls().clientCa()), transport,
                settings, Math.min(2, Runtime.getRuntime().availableProcessors()), Ticker.systemTicker(),
                config.pushStateDir(), vpn, balancers, wsPath);
    }

    /** A client's settings; every problem at once in a {@link ConfigException}. */
    static ClientConfig client(NodeConfig config, Function<String, String> names) {
        NodeSetup s = new NodeSetup(config, names, System::getenv);
        s.admin();
        s.adminToken();
        Token token = s.token();
        Policy exits = s.policy("policy.allow_target", config.allowTarget());
        ProxyAuth auth = s.proxyAuth();
        Transport transport = s.transport();
        LinkSettings settings = s.settings();
        s.tlsPairs();
        s.spoolDirs(config.tunnels());
        s.pushStateDir(config.pushStateDir());
        VpnSettings.Client vpn = s.vpnClient();
        List<ClientConfig.Endpoint> servers = s.servers();
        int links = s.links();
        s.check();
        try {
            return new ClientConfig(servers, links, token, config.tunnels(),
                    new TlsSetup.ClientOptions(config.tls().ca(), config.tls().cert(), config.tls().key(),
                            config.tls().wsCa()), transport,
                    settings, Duration.ofMillis(200), Duration.ofSeconds(10), 1, Ticker.systemTicker(), exits, auth,
                    config.pushStateDir(), vpn);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /**
     * The proxy the client dials through: {@code link.proxy} ({@code none}: no proxy), else the one the
     * environment names for the server (curl's {@code HTTPS_PROXY}, {@code ALL_PROXY}, {@code NO_PROXY});
     * {@code null} for none. Problems go to the list.
     */
    private EgressProxy proxy(HostPort server) {
        String p = config.proxy();
        try {
            if (p != null) {
                return p.strip().equalsIgnoreCase(EgressProxy.NONE) ? null : EgressProxy.parse(p);
            }
            if (server == null) {
                return null;
            }
            Map<String, String> vars = new java.util.HashMap<>();
            for (String n : List.of("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")) {
                String v = env.apply(n);
                if (v != null) {
                    vars.put(n, v);
                }
            }
            return EgressProxy.fromEnvironment(vars, server);
        } catch (IllegalArgumentException e) {
            problems.add((p != null ? names.apply("link.proxy") + ": " : "") + e.getMessage());
            return null;
        }
    }

    /** The server's VPN settings ({@code vpn.*}), or {@code null}; problems go to the list. */
    private VpnSettings.Server vpnServer() {
        NodeConfig.Vpn v = config.vpn();
        if (v == null) {
            return null;
        }
        List<IpPrefix> pools = prefixes("vpn.networks", v.networks());
        List<IpPrefix> routes = prefixes("vpn.routes", v.routes());
        if (v.networks().isEmpty()) {
            problems.add(names.apply("vpn.networks") + ": a server's VPN needs its network, e.g. 10.8.0.0/24");
            return null;
        }
        device("vpn.device", v.device());
        try {
            return new VpnSettings.Server(pools, routes, v.device(),
                    v.mtu() == null ? VpnSettings.DEFAULT_MTU : v.mtu());
        } catch (IllegalArgumentException e) {
            problems.add(names.apply("vpn.networks") + ": " + e.getMessage());
            return null;
        }
    }

    /** The client's VPN settings ({@code vpn.*}), or {@code null}; problems go to the list. */
    private VpnSettings.Client vpnClient() {
        NodeConfig.Vpn v = config.vpn();
        if (v == null) {
            return null;
        }
        List<IpPrefix> wanted = prefixes("vpn.address", v.networks());
        List<IpPrefix> routes = prefixes("vpn.routes", v.routes());
        device("vpn.device", v.device());
        if (v.mtu() != null) {
            problems.add("vpn.mtu: the server sets the VPN's MTU; a client has none to give");
        }
        try {
            return new VpnSettings.Client(wanted, routes, v.device());
        } catch (IllegalArgumentException e) {
            problems.add(names.apply("vpn.address") + ": " + e.getMessage());
            return null;
        }
    }

    private List<IpPrefix> prefixes(String key, List<String> texts) {
        List<IpPrefix> l = new ArrayList<>();
        for (String t : texts) {
            try {
                l.add(IpPrefix.parse(t));
            } catch (IllegalArgumentException e) {
                problems.add(names.apply(key) + " " + t + ": " + e.getMessage());
            }
        }
        return l;
    }

    private void device(String key, String name) {
        if (name != null) {
            try {
                io.sdt.core.tun.Interfaces.validName(name);
            } catch (IllegalArgumentException e) {
                problems.add(names.apply(key) + " " + name + ": " + e.getMessage());
            }
        }
    }

    /** push.spool_dir can be created and written, before anything starts. */
    private void pushStateDir(java.nio.file.Path dir) {
        if (dir != null) {
            try {
                io.sdt.core.tunnel.push.spool.DurableSpool.check(dir);
            } catch (io.sdt.core.tunnel.push.spool.SpoolException e) {
                problems.add("push.spool_dir: " + e.getMessage());
            }
        }
    }

    /** Every durable push spool directory can be created and written, before anything starts. */
    private void spoolDirs(java.util.List<io.sdt.core.tunnel.TunnelSpec> tunnels) {
        for (io.sdt.core.tunnel.TunnelSpec t : tunnels) {
            if (t.durable() != null) {
                try {
                    io.sdt.core.tunnel.push.spool.DurableSpool.check(t.durable().dir());
                } catch (io.sdt.core.tunnel.push.spool.SpoolException e) {
                    problems.add(t.direction().flag() + " " + t.text() + ": " + e.getMessage());
                }
            }
        }
    }

    /** The policy of a server: [targets, binds]. */
    static Policy[] serverPolicy(NodeConfig config, Function<String, String> names) {
        NodeSetup s = new NodeSetup(config, names, System::getenv);
        Policy[] p = s.serverPolicy();
        s.check();
        return p;
    }

    /** A client's reverse dynamic exit policy and its {@code -D} proxy credentials ({@code null}: none). */
    record ClientPolicy(Policy exits, ProxyAuth proxyAuth) {
    }

    /** A client's policy alone, for a reload. */
    static ClientPolicy clientPolicy(NodeConfig config, Function<String, String> names) {
        NodeSetup s = new NodeSetup(config, names, System::getenv);
        Policy exits = s.policy("policy.allow_target", config.allowTarget());
        ProxyAuth auth = s.proxyAuth();
        s.check();
        return new ClientPolicy(exits, auth);
    }

    /**
     * The admin endpoint: where it listens, and the token it asks for ({@code null}: none).
     */
    record Admin(HostPort address, String token) {
    }

    /** The admin endpoint's settings, or {@code null} without one. */
    static Admin admin(NodeConfig config, Function<String, String> names) {
        NodeSetup s = new NodeSetup(config, names, System::getenv);
        HostPort a = s.admin();
        String token = s.adminToken();
        s.check();
        return a == null ? null : new Admin(a, token);
    }

    private void check() {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    private HostPort admin() {
        return config.admin() == null ? null : address("admin", config.admin(), "127.0.0.1", false);
    }

    /** The admin token from {@code admin.token_file}: one line, not empty; {@code null} without the file. */
    private String adminToken() {
        Path f = config.adminTokenFile();
        if (f == null) {
            return null;
        }
        String where = names.apply("admin.token_file") + " " + f + ": ";
        if (config.admin() == null) {
            problems.add(where + "there is no admin endpoint to protect (give " + names.apply("admin") + " too)");
            return null;
        }
        String text;
        try {
            text = Files.readString(f, StandardCharsets.UTF_8).strip();
        } catch (java.nio.charset.CharacterCodingException e) {
            problems.add(where + "is not UTF-8 text");
            return null;
        } catch (NoSuchFileException e) {
            problems.add(where + "no such file");
            return null;
        } catch (IOException e) {
            problems.add(where + "cannot read it: " + e.getMessage());
            return null;
        }
        if (text.isEmpty()) {
            problems.add(where + "is empty");
            return null;
        }
        if (text.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            problems.add(where + "the token must be one line of printable characters without spaces");
            return null;
        }
        return text;
    }

    /** {@code link.server} as a WebSocket URL, or null if it is HOST:PORT (or unusable: the problem is listed). */
    /** The servers a client dials, each with the proxy it is dialed through; problems go to the list. */
    private List<ClientConfig.Endpoint> servers() {
        String key = config.servers().size() > 1 ? "link.servers" : "link.server";
        List<ClientConfig.Endpoint> out = new ArrayList<>();
        EgressProxy given = config.proxy() != null ? proxy(null) : null; // --proxy: the same for every server
        if (config.vpn() != null && config.servers().size() > 1) {
            problems.add(names.apply(key) + ": the VPN runs over one link: give one server");
        }
        for (String text : config.servers()) {
            WebSocketLink.Url ws = webSocket(text);
            HostPort server = ws != null ? ws.address()
                    : WebSocketLink.Url.looksLikeOne(text) ? null : address(key, text, null, true);
            if (server != null) {
                out.add(new ClientConfig.Endpoint(server, ws, config.proxy() != null ? given : proxy(server)));
            }
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (ClientConfig.Endpoint e : out) {
            if (!seen.add(e.toString())) {
                problems.add(names.apply(key) + " " + e + ": given twice (--links N keeps several links to one server)");
            }
        }
        return out;
    }

    /** {@code link.links}: links to each server (1 to the most a client keeps over its servers). */
    private int links() {
        Integer n = config.links();
        int servers = Math.max(1, config.servers().size());
        int most = ClientConfig.MAX_LINKS / servers;
        if (n == null) {
            return 1;
        }
        if (n < 1 || n > most) {
            problems.add(names.apply("link.links") + " " + n + ": expected 1 to " + most + " links to each server (at most "
                    + ClientConfig.MAX_LINKS + " links in all)");
            return 1;
        }
        if (n > 1 && config.vpn() != null) {
            problems.add(names.apply("link.links") + " " + n + ": the VPN runs over one link");
            return 1;
        }
        return n;
    }

    private WebSocketLink.Url webSocket(String value) {
        if (value == null || !WebSocketLink.Url.looksLikeOne(value)) {
            return null;
        }
        try {
            return WebSocketLink.Url.parse(value);
        } catch (IllegalArgumentException e) {
            problems.add(names.apply("link.server") + " " + e.getMessage());
            return null;
        }
    }

    private String wsPath(String path) {
        if (path != null && (!path.startsWith("/") || path.contains(" ") || path.contains("?"))) {
            problems.add(names.apply("link.ws_path") + " " + path + ": a path starts with / and has no spaces or query");
            return null;
        }
        return path;
    }

    private HostPort address(String key, String value, String defaultHost, boolean hostRequired) {
        try {
            return Addresses.parse(names.apply(key), value, defaultHost, hostRequired);
        } catch (Main.UsageException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    private Token token() {
        String text;
        String where;
        if (config.tokenFile() != null) {
            where = names.apply("link.token_file") + " " + config.tokenFile();
            try {
                text = Files.readString(config.tokenFile(), StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                problems.add(where + ": no such file");
                return null;
            } catch (IOException e) {
                problems.add(where + ": cannot read: " + e.getMessage());
                return null;
            }
        } else if (config.token() != null) {
            where = names.apply("link.token");
            text = config.token().value();
        } else {
            where = "SDT_TOKEN";
            text = env.apply("SDT_TOKEN");
            if (text == null) {
                problems.add(names == FILE
                        ? "link: no token: give link.token_file or link.token, or set SDT_TOKEN (make one with 'sdt token')"
                        : "no token: give --token-file F or set SDT_TOKEN (make one with 'sdt token')");
                return null;
            }
        }
        try {
            return Token.of(text);
        } catch (IllegalArgumentException e) {
            problems.add(where + ": " + e.getMessage()); // the message never quotes the token
            return null;
        }
    }

    private Policy[] serverPolicy() {
        return new Policy[] {policy("policy.allow_target", config.allowTarget()),
                policy("policy.allow_bind", config.allowBind())};
    }

    private Policy policy(String key, List<String> rules) {
        List<PolicyRule> parsed = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            String where = names == FILE ? key + "[" + i + "]" : names.apply(key);
            try {
                parsed.add(PolicyRule.parse(where, rules.get(i)));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        return Policy.of(parsed);
    }

    private ProxyAuth proxyAuth() {
        String text;
        String where;
        if (config.proxyAuthFile() != null) {
            where = names.apply("policy.proxy_auth_file") + " " + config.proxyAuthFile() + ": ";
            try {
                text = Files.readString(config.proxyAuthFile(), StandardCharsets.UTF_8).strip();
            } catch (NoSuchFileException e) {
                problems.add(where + "no such file");
                return null;
            } catch (IOException e) {
                problems.add(where + "cannot read: " + e.getMessage());
                return null;
            }
        } else if (config.proxyAuth() != null) {
            where = names.apply("policy.proxy_auth") + ": ";
            text = config.proxyAuth().value().strip();
        } else {
            return null;
        }
        int colon = text.indexOf(':');
        if (colon <= 0 || text.contains("\n")) {
            problems.add(where + "expected one line USER:PASSWORD");
            return null;
        }
        try {
            return ProxyAuth.of(text.substring(0, colon), text.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            problems.add(where + e.getMessage());
            return null;
        }
    }

    private Transport transport() {
        try {
            return Transport.select(config.transport());
        } catch (IllegalArgumentException e) {
            problems.add(names.apply("link.transport") + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * Windows: {@code window} is where a channel starts; {@code window_max} how far it may grow (default 32 MiB,
     * or the initial window if that is larger); {@code buffer_budget} bounds them all. A window_max equal to the
     * window fixes every window at that size.
     */
    private LinkSettings settings() {
        LinkSettings s = LinkSettings.defaults();
        int window = size("link.window", config.window(), s.window());
        int max = size("link.window_max", config.windowMax(), Math.max(LinkSettings.DEFAULT_WINDOW_MAX, window));
        long budget = LinkSettings.DEFAULT_BUFFER_BUDGET;
        if (config.bufferBudget() != null) {
            try {
                budget = Sizes.parseLong(config.bufferBudget());
            } catch (IllegalArgumentException e) {
                problems.add(names.apply("link.buffer_budget") + " " + config.bufferBudget() + ": " + e.getMessage());
            }
        }
        try {
            return s.withWindows(window, max, Math.max(budget, window));
        } catch (IllegalArgumentException e) {
            boolean maxIsWrong = config.windowMax() != null && window >= LinkSettings.MIN_WINDOW;
            problems.add(maxIsWrong ? names.apply("link.window_max") + " " + config.windowMax() + ": " + e.getMessage()
                    : names.apply("link.window") + " " + config.window() + ": " + e.getMessage());
            return s;
        }
    }

    private int size(String key, String text, int otherwise) {
        if (text == null) {
            return otherwise;
        }
        try {
            return Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(names.apply(key) + " " + text + ": " + e.getMessage());
            return otherwise;
        }
    }

    private void tlsPairs() {
        if ((config.tls().cert() == null) != (config.tls().key() == null)) {
            problems.add(names == FILE ? "tls: cert and key go together" : "--cert and --key go together");
        }
    }
}
