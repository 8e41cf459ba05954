package io.sdt.server.config;

import io.sdt.core.tunnel.SpecException;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a node's YAML configuration into a {@link NodeConfig}. Checks the file's shape: every key
 * known (an unknown or misspelt key is an error, not ignored), every value of the right type, the
 * keys a role needs present and those it cannot use absent, every tunnel a valid spec. Reports all
 * problems at once, each led by its path. String values may name environment variables,
 * {@code ${NAME}} or {@code ${NAME:-default}}, for containers. What needs files or the network (a
 * token file, certificates) is checked by the node's setup.
 */
public final class ConfigReader {

    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Set<String> TOP = Set.of("node", "link", "tls", "policy", "tunnels", "admin", "logging",
            "shutdown", "push", "vpn");
    private static final Set<String> LINK = Set.of("listen", "server", "servers", "links", "token_file", "token", "transport", "window",
            "window_max", "buffer_budget", "proxy", "accept_proxy_protocol", "ws_path");
    private static final Set<String> TLS = Set.of("ca", "cert", "key", "client_ca", "ws_ca");
    private static final Set<String> POLICY = Set.of("allow_target", "allow_bind", "proxy_auth_file", "proxy_auth");
    private static final Set<String> LOGGING = Set.of("level", "audit", "audit_file", "audit_file_size");
    private static final Set<String> SHUTDOWN = Set.of("drain_timeout");
    private static final Set<String> ADMIN = Set.of("listen", "token_file");
    private static final Set<String> PUSH = Set.of("spool_dir");
    private static final Set<String> VPN = Set.of("networks", "addresses", "routes", "device", "mtu");
    private static final Set<String> TUNNEL = Set.of("direction", "mode", "protocol", "bind", "target", "peer", "idle",
            "max", "record", "spool", "spool_dir", "fsync", "overflow", "spool_max", "relp",
            "proxy_protocol", "optimistic");
    static final Set<String> LEVELS = Set.of("off", "fatal", "error", "warn", "info", "debug", "trace", "all");
    static final Set<String> AUDIT = Set.of("text", "json", "off");

    private final Function<String, String> env;
    private final List<String> problems = new ArrayList<>();

    private final Path base;

    private ConfigReader(Function<String, String> env, Path base) {
        this.env = env;
        this.base = base;
    }

    /** Reads {@code file}; environment variables from the process. */
    public static NodeConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(file.toString(), text, System::getenv, file.toAbsolutePath().getParent());
    }

    /** Parses YAML {@code text} (named {@code label} in errors), taking variables from {@code env}. */
    public static NodeConfig parse(String label, String text, Function<String, String> env) {
        return parse(label, text, env, null);
    }

    /**
     * Parses YAML {@code text}; relative paths in it (token file, certificates) are taken relative to
     * {@code base}, the file's directory, so a configuration works from any working directory.
     */
    public static NodeConfig parse(String label, String text, Function<String, String> env, Path base) {
        Object root;
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(label).setAllowDuplicateKeys(false)
                    .setMaxAliasesForCollections(10).setCodePointLimit(1 << 20).build();
            root = new Load(settings).loadFromString(text);
        } catch (YamlEngineException e) {
            throw new ConfigException(label + ": not valid YAML: " + e.getMessage().strip().replace('\n', ' '));
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new ConfigException(label + ": expected a mapping of keys (node, link, tunnels, ...)");
        }
        ConfigReader r = new ConfigReader(env, base);
        NodeConfig config = r.node(top);
        if (!r.problems.isEmpty()) {
            throw new ConfigException(r.problems);
        }
        return config;
    }

    private NodeConfig node(Map<?, ?> top) {
        keys(top, "", TOP);
        NodeConfig.Role role = null;
        String roleText = string(top, "node", "node");
        if (roleText == null) {
            problems.add("node: required (server or client)");
        } else {
            switch (roleText) {
                case "server" -> role = NodeConfig.Role.SERVER;
                case "client" -> role = NodeConfig.Role.CLIENT;
                default -> problems.add("node: expected server or client, got '" + roleText + "'");
            }
        }
        Map<?, ?> link = section(top, "link", LINK);
        Map<?, ?> tls = section(top, "tls", TLS);
        Map<?, ?> policy = section(top, "policy", POLICY);
        Map<?, ?> logging = section(top, "logging", LOGGING);
        Map<?, ?> shutdown = section(top, "shutdown", SHUTDOWN);
        Map<?, ?> push = section(top, "push", PUSH);
        String listen = string(link, "listen", "link.listen");
        String server = string(link, "server", "link.server");
        List<String> servers = new ArrayList<>();
        if (link.get("servers") != null && !(link.get("servers") instanceof List)) {
            problems.add("link.servers: expected a list, e.g. [\"a.example.net:7000\", \"b.example.net:7000\"]");
        } else {
            servers.addAll(strings(link, "servers", "link.servers"));
        }
        if (server != null && !servers.isEmpty()) {
            problems.add("link: give server or servers, not both");
        } else if (server != null) {
            servers.add(server);
        } else if (link.containsKey("servers") && servers.isEmpty()) {
            problems.add("link.servers: expected a list of one or more servers, e.g. [\"a.example.net:7000\", "
                    + "\"b.example.net:7000\"]");
        }
        Integer links = null;
        String linksText = string(link, "links", "link.links");
        if (linksText != null) {
            try {
                links = Integer.parseInt(linksText);
            } catch (NumberFormatException e) {
                problems.add("link.links: expected a number of links to each server (1 or more), got '" + linksText + "'");
            }
        }
        String tokenFile = string(link, "token_file", "link.token_file");
        String token = string(link, "token", "link.token");
        if (tokenFile != null && token != null) {
            problems.add("link: give token_file or token, not both");
        }
        String level = string(logging, "level", "logging.level");
        if (level != null && !LEVELS.contains(level.toLowerCase(Locale.ROOT))) {
            problems.add("logging.level: expected one of off, error, warn, info, debug, trace; got '" + level + "'");
        }
        String audit = string(logging, "audit", "logging.audit");
        if (audit != null && !AUDIT.contains(audit)) {
            problems.add("logging.audit: expected text, json or off; got '" + audit + "'");
        }
        Duration drain = null;
        String drainText = string(shutdown, "drain_timeout", "shutdown.drain_timeout");
        if (drainText != null) {
            drain = duration("shutdown.drain_timeout", drainText);
        }
        String proxyAuthFile = string(policy, "proxy_auth_file", "policy.proxy_auth_file");
        String proxyAuth = string(policy, "proxy_auth", "policy.proxy_auth");
        if (proxyAuthFile != null && proxyAuth != null) {
            problems.add("policy: give proxy_auth_file or proxy_auth, not both");
        }
        List<String> allowTarget = strings(policy, "allow_target", "policy.allow_target");
        List<String> allowBind = strings(policy, "allow_bind", "policy.allow_bind");
        pushDir = path(push, "spool_dir", "push.spool_dir");
        List<TunnelSpec> tunnels = tunnels(top);
        if (role == NodeConfig.Role.SERVER) {
            require(listen, "link.listen", "a server needs the address it accepts links on, e.g. \"0.0.0.0:7000\"");
            forbid(server, "link.server", "is for a client");
            forbid(link.get("servers"), "link.servers", "is for a client");
            forbid(link.get("links"), "link.links", "is for a client");
            forbid(tls.get("ca"), "tls.ca", "is for a client (a server uses client_ca for mTLS)");
            forbid(proxyAuthFile, "policy.proxy_auth_file", "is for a client's dynamic tunnels");
            forbid(proxyAuth, "policy.proxy_auth", "is for a client's dynamic tunnels");
            if (top.containsKey("tunnels")) {
                problems.add("tunnels: only a client has tunnels (a server serves its clients' tunnels under policy)");
            }
        } else if (role == NodeConfig.Role.CLIENT) {
            if (servers.isEmpty() && !link.containsKey("servers")) {
                require(null, "link.server", "a client needs the server's address, e.g. \"sdt.example.net:7000\" "
                        + "(or link.servers, a list)");
            }
            forbid(listen, "link.listen", "is for a server");
            forbid(tls.get("client_ca"), "tls.client_ca", "is for a server");
            forbid(policy.get("allow_bind"), "policy.allow_bind", "is for a server");
            forbid(link.get("accept_proxy_protocol"), "link.accept_proxy_protocol", "is for a server");
            forbid(link.get("ws_path"), "link.ws_path", "is for a server");
        }
        NodeConfig.Tls tlsConfig = new NodeConfig.Tls(path(tls, "ca", "tls.ca"), path(tls, "cert", "tls.cert"),
                path(tls, "key", "tls.key"), path(tls, "client_ca", "tls.client_ca"), path(tls, "ws_ca", "tls.ws_ca"));
        if ((tlsConfig.cert() == null) != (tlsConfig.key() == null)) {
            problems.add("tls: cert and key go together");
        }
        // admin: [HOST:]PORT, or a mapping {listen, token_file}
        String adminListen;
        Path adminTokenFile = null;
        if (top.get("admin") instanceof Map<?, ?>) {
            Map<?, ?> admin = section(top, "admin", ADMIN);
            adminListen = string(admin, "listen", "admin.listen");
            adminTokenFile = path(admin, "token_file", "admin.token_file");
            if (adminListen == null) {
                problems.add("admin.listen: missing: where the admin endpoint listens, [HOST:]PORT");
            }
        } else {
            adminListen = string(top, "admin", "admin");
        }
        NodeConfig.Vpn vpn = vpn(top, role);
        if (role == null) {
            return null;
        }
        return new NodeConfig(role, listen, servers, tokenFile == null ? null : resolve(Path.of(tokenFile)),
                token == null ? null : new Secret(token), string(link, "transport", "link.transport"),
                string(link, "window", "link.window"), tlsConfig, allowTarget, allowBind,
                proxyAuthFile == null ? null : resolve(Path.of(proxyAuthFile)), proxyAuth == null ? null : new Secret(proxyAuth),
                tunnels, adminListen,
                new NodeConfig.Logging(level == null ? null : level.toLowerCase(Locale.ROOT), audit,
                        path(logging, "audit_file", "logging.audit_file"),
                        string(logging, "audit_file_size", "logging.audit_file_size")), drain,
                pushDir, string(link, "window_max", "link.window_max"), string(link, "buffer_budget", "link.buffer_budget"),
                vpn, string(link, "proxy", "link.proxy"), strings(link, "accept_proxy_protocol",
                        "link.accept_proxy_protocol"), string(link, "ws_path", "link.ws_path"), links, adminTokenFile);
    }

    /**
     * {@code vpn}: present (even empty, {@code vpn: {}}, a client letting the server choose) means the VPN is on.
     * A server gives {@code networks}, a client may give {@code addresses}; {@code mtu} is the server's.
     */
    private NodeConfig.Vpn vpn(Map<?, ?> top, NodeConfig.Role role) {
        if (!top.containsKey("vpn")) {
            return null;
        }
        Map<?, ?> v = top.get("vpn") == null ? Map.of() : section(top, "vpn", VPN);
        List<String> networks = strings(v, "networks", "vpn.networks");
        List<String> addresses = strings(v, "addresses", "vpn.addresses");
        Integer mtu = null;
        String mtuText = string(v, "mtu", "vpn.mtu");
        if (mtuText != null) {
            try {
                mtu = Integer.parseInt(mtuText);
            } catch (NumberFormatException e) {
                problems.add("vpn.mtu: expected a number of bytes (1280 to 65535), got '" + mtuText + "'");
            }
        }
        if (role == NodeConfig.Role.SERVER) {
            forbid(v.get("addresses"), "vpn.addresses", "is for a client (a server gives its networks)");
        } else if (role == NodeConfig.Role.CLIENT) {
            forbid(v.get("networks"), "vpn.networks", "is for a server (a client may ask for addresses)");
        }
        return new NodeConfig.Vpn(role == NodeConfig.Role.CLIENT ? addresses : networks, strings(v, "routes", "vpn.routes"),
                string(v, "device", "vpn.device"), mtu);
    }

    /** {@code push.spool_dir}: also where local TCP push tunnels without their own spool_dir keep their spools. */
    private Path pushDir;

    /**
     * The durable spool directory of a local TCP push tunnel that names none, under {@code push.spool_dir}: one
     * per bind address and target, so a restart with the same tunnels finds its spools again.
     */
    static Path defaultSpool(Path pushDir, String bind, String target) {
        String name = (bind + "-" + target).replaceAll("[^A-Za-z0-9._-]", "_");
        return pushDir.resolve("L-" + name);
    }

    private List<TunnelSpec> tunnels(Map<?, ?> top) {
        Object value = top.get("tunnels");
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            problems.add("tunnels: expected a list of tunnels");
            return List.of();
        }
        List<TunnelSpec> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String path = "tunnels[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                problems.add(path + ": expected a mapping (direction, mode, protocol, bind, target, ...)");
                continue;
            }
            TunnelSpec spec = tunnel(path, m);
            if (spec != null) {
                out.add(spec);
            }
        }
        return out;
    }

    /** One tunnel: its keys become the ssh-style SPEC of the flags, so both take one parser. */
    private TunnelSpec tunnel(String path, Map<?, ?> m) {
        int before = problems.size();
        keys(m, path + ".", TUNNEL);
        String direction = choice(m, "direction", path, "local", Set.of("local", "remote"));
        String mode = choice(m, "mode", path, "forward", Set.of("forward", "direct", "push", "dynamic"));
        String protocol = choice(m, "protocol", path, "tcp", Set.of("tcp", "udp"));
        String bind = string(m, "bind", path + ".bind");
        String target = string(m, "target", path + ".target");
        String peer = string(m, "peer", path + ".peer");
        require(bind, path + ".bind", "where the tunnel listens, [HOST:]PORT");
        if ("dynamic".equals(mode)) {
            forbid(target, path + ".target", "a dynamic tunnel has no target: its customers name theirs (SOCKS5, HTTP CONNECT)");
            if ("udp".equals(protocol) && m.containsKey("protocol")) {
                problems.add(path + ".protocol: a dynamic tunnel is TCP (SOCKS5 UDP ASSOCIATE rides its TCP control connection)");
            }
        } else {
            require(target, path + ".target", "where the far node connects, HOST:PORT");
        }
        if ("direct".equals(mode)) {
            require(peer, path + ".peer", "a direct tunnel admits one source, IP:PORT or IP:*");
        } else {
            forbid(peer, path + ".peer", "applies to mode direct only");
        }
        StringBuilder spec = new StringBuilder();
        spec.append(bind);
        if (target != null) {
            spec.append(':').append(target);
        }
        if ("udp".equals(protocol) && !"dynamic".equals(mode)) {
            spec.append("/udp");
        }
        if ("push".equals(mode)) {
            spec.append(",push");
        }
        if (peer != null) {
            spec.append(",peer=").append(peer);
        }
        Object proxyProtocol = m.get("proxy_protocol");
        if (proxyProtocol != null && !(proxyProtocol instanceof Boolean)) {
            problems.add(path + ".proxy_protocol: expected true or false");
        } else if (Boolean.TRUE.equals(proxyProtocol)) {
            spec.append(",proxy-protocol");
        }
        Object optimistic = m.get("optimistic");
        if (optimistic != null && !(optimistic instanceof Boolean)) {
            problems.add(path + ".optimistic: expected true or false");
        } else if (Boolean.TRUE.equals(optimistic)) {
            if (!"dynamic".equals(mode)) {
                problems.add(path + ".optimistic: applies to a dynamic tunnel only");
            }
            spec.append(",optimistic");
        }
        for (String option : List.of("idle", "max", "record", "spool", "spool_dir", "fsync", "overflow", "spool_max",
                "relp")) {
            String v = string(m, option, path + "." + option);
            if (v != null) {
                if (option.equals("spool_dir")) {
                    v = resolve(Path.of(v)).toString(); // relative to the file, like every path in it
                }
                spec.append(',').append(option.replace('_', '-')).append('=').append(v);
            }
        }
        if (pushDir != null && "push".equals(mode) && "tcp".equals(protocol) && !"remote".equals(direction)
                && m.get("spool_dir") == null && bind != null && target != null) {
            spec.append(",spool-dir=").append(defaultSpool(pushDir, bind, target));
        }
        if (problems.size() > before) {
            return null;
        }
        try {
            TunnelSpec.Direction d = "remote".equals(direction) ? TunnelSpec.Direction.REMOTE : TunnelSpec.Direction.LOCAL;
            if ("dynamic".equals(mode) && d == TunnelSpec.Direction.LOCAL) {
                return TunnelSpecParser.parseDynamic(spec.toString());
            }
            TunnelSpec parsed = TunnelSpecParser.parse(d, spec.toString());
            if (parsed.dynamic() != "dynamic".equals(mode)) {
                problems.add(path + ": a remote tunnel without target is dynamic: give mode: dynamic or a target");
                return null;
            }
            return parsed;
        } catch (SpecException e) {
            problems.add(path + ": " + e.getMessage());
            return null;
        }
    }

    // ---- typed access, each recording its problem under the key's path ----

    private void keys(Map<?, ?> m, String prefix, Set<String> known) {
        for (Object k : m.keySet()) {
            if (!(k instanceof String key) || !known.contains(key)) {
                problems.add(prefix + k + ": unknown key (expected one of " + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    private Map<?, ?> section(Map<?, ?> top, String key, Set<String> known) {
        Object v = top.get(key);
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> m)) {
            problems.add(key + ": expected a mapping with keys " + String.join(", ", new java.util.TreeSet<>(known)));
            return Map.of();
        }
        keys(m, key + ".", known);
        return m;
    }

    /** A scalar as text (numbers too: {@code bind: 8080}); {@code null} if absent. */
    private String string(Map<?, ?> m, String key, String path) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Map || v instanceof List) {
            problems.add(path + ": expected a single value, got a " + (v instanceof Map ? "mapping" : "list"));
            return null;
        }
        if (v instanceof byte[]) {
            problems.add(path + ": expected text, got binary data");
            return null;
        }
        String text = interpolate(path, v.toString());
        return text == null ? null : text.strip();
    }

    private List<String> strings(Map<?, ?> m, String key, String path) {
        Object v = m.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            problems.add(path + ": expected a list, e.g. [\"10.0.0.0/8:22\", \"*.internal:443\"]");
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Object item = list.get(i);
            if (item == null || item instanceof Map || item instanceof List) {
                problems.add(path + "[" + i + "]: expected a rule HOSTS[:PORTS]");
                continue;
            }
            String text = interpolate(path + "[" + i + "]", item.toString());
            if (text != null) {
                out.add(text.strip());
            }
        }
        return out;
    }

    private Path path(Map<?, ?> m, String key, String path) {
        String v = string(m, key, path);
        if (v != null && v.isEmpty()) {
            problems.add(path + ": empty path");
            return null;
        }
        return v == null ? null : resolve(Path.of(v));
    }

    private Path resolve(Path p) {
        return base == null || p.isAbsolute() ? p : base.resolve(p).normalize();
    }

    private String choice(Map<?, ?> m, String key, String path, String dflt, Set<String> allowed) {
        String v = string(m, key, path + "." + key);
        if (v == null) {
            return dflt;
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (!allowed.contains(lower)) {
            problems.add(path + "." + key + ": expected one of " + String.join(", ", new java.util.TreeSet<>(allowed))
                    + ", got '" + v + "'");
            return dflt;
        }
        return lower;
    }

    private Duration duration(String path, String text) {
        try {
            return TunnelSpecParser.parseDuration("", text);
        } catch (SpecException e) {
            problems.add(path + ": " + e.getMessage());
            return null;
        }
    }

    private void require(Object value, String path, String what) {
        if (value == null) {
            problems.add(path + ": required (" + what + ")");
        }
    }

    private void forbid(Object value, String path, String why) {
        if (value != null) {
            problems.add(path + ": not allowed here: " + why);
        }
    }

    /** Replaces {@code ${NAME}} and {@code ${NAME:-default}}; {@code null} (and a problem) if a variable is unset. */
    private String interpolate(String path, String text) {
        if (text.indexOf("${") < 0) {
            return text;
        }
        Matcher matcher = ENV.matcher(text);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String value = env.apply(matcher.group(1));
            if (value == null || (value.isEmpty() && matcher.group(2) != null)) {
                value = matcher.group(2);
            }
            if (value == null) {
                problems.add(path + ": environment variable " + matcher.group(1) + " is not set (write ${"
                        + matcher.group(1) + ":-default} for a fallback)");
                return null;
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }
}
