package io.sdt.server.config;

import io.sdt.codec.HostPort;
import io.sdt.core.tunnel.TunnelSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Writes a {@link NodeConfig} as the YAML that {@code sdt run} reads: every key with its effective
 * value (defaults included), secrets masked. {@code sdt server|client ... --print-config} uses it to
 * show what a command line means; reading the output back gives the same tunnels.
 */
public final class ConfigWriter {

    private final StringBuilder out = new StringBuilder();

    private ConfigWriter() {
    }

    public static String write(NodeConfig c) {
        ConfigWriter w = new ConfigWriter();
        w.node(c);
        return w.out.toString();
    }

    private void node(NodeConfig c) {
        boolean server = c.role() == NodeConfig.Role.SERVER;
        plain(0, "node", c.role().key());
        out.append("link:\n");
        if (server) {
            line(1, "listen", c.listen());
            if (!c.acceptProxyProtocol().isEmpty()) {
                indent(1).append("accept_proxy_protocol: ").append(c.acceptProxyProtocol().stream()
                        .map(ConfigWriter::quote).toList().toString()).append('\n');
            }
        } else {
            if (c.servers().size() == 1) {
                line(1, "server", c.servers().getFirst());
            } else {
                indent(1).append("servers: ").append(c.servers().stream().map(ConfigWriter::quote).toList().toString())
                        .append('\n');
            }
            plain(1, "links", c.links() == null ? "1" : c.links().toString());
            if (c.proxy() != null) {
                line(1, "proxy", ConfigWriter.redactedProxy(c.proxy()));
            } else {
                out.append("  # proxy: from HTTPS_PROXY / ALL_PROXY unless NO_PROXY names the server\n");
            }
        }
        if (c.tokenFile() != null) {
            optional(1, "token_file", c.tokenFile());
        } else if (c.token() != null) {
            line(1, "token", c.token()); // Secret prints its mask
        } else {
            out.append("  # token: from the environment variable SDT_TOKEN\n");
        }
        line(1, "transport", c.transport());
        line(1, "window", c.window() == null ? "256k" : c.window());
        line(1, "window_max", c.windowMax() == null ? (c.window() == null ? "32m" : "32m or window, the larger")
                : c.windowMax());
        line(1, "buffer_budget", c.bufferBudget() == null ? "1g" : c.bufferBudget());
        NodeConfig.Tls tls = c.tls();
        if (!tls.equals(NodeConfig.Tls.NONE)) {
            out.append("tls:\n");
            optional(1, "ca", tls.ca());
            optional(1, "cert", tls.cert());
            optional(1, "key", tls.key());
            optional(1, "client_ca", tls.clientCa());
        }
        out.append("policy:\n");
        list(1, "allow_target", c.allowTarget());
        if (server) {
            list(1, "allow_bind", c.allowBind());
        } else {
            optional(1, "proxy_auth_file", c.proxyAuthFile());
            if (c.proxyAuth() != null) {
                line(1, "proxy_auth", c.proxyAuth());
            }
        }
        if (!server) {
            tunnels(c.tunnels());
        }
        if (c.admin() != null && c.adminTokenFile() == null) {
            line(0, "admin", c.admin());
        } else if (c.admin() != null || c.adminTokenFile() != null) {
            out.append("admin:\n");
            if (c.admin() != null) {
                line(1, "listen", c.admin());
            }
            optional(1, "token_file", c.adminTokenFile());
        }
        out.append("logging:\n");
        line(1, "level", or(c.logging().level(), or(env("SDT_LOG_LEVEL"), "info")));
        line(1, "audit", or(c.logging().audit(), "off".equalsIgnoreCase(env("SDT_AUDIT_LEVEL")) ? "off"
                : or(env("SDT_AUDIT_FORMAT"), "text")));
        if (c.logging().auditFile() != null) {
            line(1, "audit_file", c.logging().auditFile());
        }
        if (c.logging().auditFileSize() != null) {
            line(1, "audit_file_size", c.logging().auditFileSize());
        }
        if (c.pushStateDir() != null) {
            out.append("push:\n");
            line(1, "spool_dir", c.pushStateDir());
        }
        if (c.vpn() != null) {
            out.append("vpn:\n");
            list(1, server ? "networks" : "addresses", c.vpn().networks());
            list(1, "routes", c.vpn().routes());
            line(1, "device", c.vpn().device() == null ? "sdt0" : c.vpn().device());
            if (server) {
                line(1, "mtu", c.vpn().mtu() == null ? "1500" : c.vpn().mtu().toString());
            }
        }
        out.append("shutdown:\n");
        line(1, "drain_timeout", duration(c.drainTimeout()));
    }

    private static String or(String value, String fallback) {
        return value == null || value.isEmpty() ? fallback : value;
    }

    private static String env(String name) {
        return System.getenv(name);
    }

    private void tunnels(List<TunnelSpec> tunnels) {
        if (tunnels.isEmpty()) {
            out.append("tunnels: []\n");
            return;
        }
        out.append("tunnels:\n");
        for (TunnelSpec t : tunnels) {
            out.append("  - direction: ").append(t.direction() == TunnelSpec.Direction.LOCAL ? "local" : "remote")
                    .append('\n');
            String mode = t.dynamic() ? "dynamic" : t.peer() != null ? "direct" : t.push() ? "push" : "forward";
            plain(2, "mode", mode);
            plain(2, "protocol", t.udp() ? "udp" : "tcp");
            line(2, "bind", t.bind().toString());
            if (t.target() != null) {
                line(2, "target", t.target().toString());
            }
            if (t.peer() != null) {
                HostPort p = t.peer();
                line(2, "peer", p.port() == 0 ? (p.host().contains(":") ? "[" + p.host() + "]" : p.host()) + ":*"
                        : p.toString());
            }
            if (t.udp()) {
                line(2, "idle", duration(t.idle()));
            }
            if (t.maxChannels() > 0) {
                plain(2, "max", Integer.toString(t.maxChannels()));
            }
            if (t.proxyProtocol()) {
                plain(2, "proxy_protocol", "true");
            }
            if (t.optimistic()) {
                plain(2, "optimistic", "true");
            }
            if (t.push() && !t.udp()) {
                plain(2, "record", size(t.recordMax()));
                plain(2, "spool", size(t.spoolMax()));
                if (t.durable() != null) {
                    line(2, "spool_dir", t.durable().dir().toString());
                    plain(2, "fsync", t.durable().fsync());
                    plain(2, "overflow", t.durable().drop() ? "drop" : "block");
                    plain(2, "spool_max", size(t.durable().maxBytes()));
                }
                if (t.relp() != TunnelSpec.Relp.NONE) {
                    plain(2, "relp", t.relp().name().toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
    }

    private void list(int depth, String key, List<String> values) {
        indent(depth).append(key).append(':');
        if (values.isEmpty()) {
            out.append(" []\n");
            return;
        }
        out.append('\n');
        for (String v : values) {
            indent(depth + 1).append("- ").append(quote(v)).append('\n');
        }
    }

    private void optional(int depth, String key, Path value) {
        if (value != null) {
            line(depth, key, value.toAbsolutePath().normalize());
        }
    }

    /** A number or size, unquoted. */
    private void plain(int depth, String key, String value) {
        indent(depth).append(key).append(": ").append(value).append('\n');
    }

    /** {@code 4k}, {@code 64m}: the shortest exact form in powers of 1024. */
    static String size(long bytes) {
        for (String unit : new String[] {"g", "m", "k"}) {
            long mult = unit.equals("g") ? 1L << 30 : unit.equals("m") ? 1L << 20 : 1L << 10;
            if (bytes >= mult && bytes % mult == 0) {
                return bytes / mult + unit;
            }
        }
        return Long.toString(bytes);
    }

    private void line(int depth, String key, Object value) {
        indent(depth).append(key).append(": ").append(quote(String.valueOf(value))).append('\n');
    }

    private StringBuilder indent(int depth) {
        return out.append("  ".repeat(depth));
    }

    /** {@code 30s}, {@code 5m}, {@code 500ms}: the shortest exact form, as the reader takes it. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** A double-quoted YAML scalar. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** A proxy URL without its password. */
    static String redactedProxy(String url) {
        return url.replaceAll("//([^:/@]*):[^@/]*@", "//$1:***@");
    }
}
