package io.sdt.core.tunnel;

import io.sdt.codec.HostPort;
import io.sdt.core.tunnel.TunnelSpec.Direction;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the tunnel SPEC grammar of the command line and the configuration file into {@link TunnelSpec}s:
 * {@code [BIND_ADDR:]PORT:HOST:HOSTPORT[/tcp|/udp][,OPTION]...} for {@code -L} and {@code -R},
 * {@code [BIND_ADDR:]PORT[,max=N]} for {@code -D} and reverse dynamic {@code -R}. Every error is a
 * {@link SpecException} that names the flag and the spec and says what was expected. Stateless.
 */
public final class TunnelSpecParser {

    private TunnelSpecParser() {
    }

    /**
     * Parses a SPEC given with {@code -L} or {@code -R}.
     *
     * @throws SpecException naming the flag and the spec, and what was expected, if the spec is
     *         malformed or uses a mode this version does not support yet
     */
    public static TunnelSpec parse(Direction direction, String text) {
        String where = direction.flag() + " " + text + ": ";
        if (text == null || text.isBlank()) {
            throw new SpecException(direction.flag() + ": empty spec (expected [BIND_ADDR:]PORT:HOST:HOSTPORT)");
        }
        String[] parts = text.split(",", -1);
        String addr = parts[0];
        boolean udp = false;
        int slash = addr.lastIndexOf('/');
        if (slash >= 0 && addr.indexOf(']', slash) < 0) {
            String proto = addr.substring(slash + 1).toLowerCase(Locale.ROOT);
            switch (proto) {
                case "tcp" -> udp = false;
                case "udp" -> udp = true;
                default -> throw new SpecException(where + "unknown protocol '/" + proto + "' (expected /tcp or /udp)");
            }
            addr = addr.substring(0, slash);
        }
        int max = 0;
        Duration idle = null;
        boolean push = false;
        HostPort peer = null;
        int recordMax = 0;
        int spoolMax = 0;
        String spoolDir = null;
        String fsync = null;
        String overflow = null;
        long spoolDiskMax = 0;
        TunnelSpec.Relp relp = TunnelSpec.Relp.NONE;
        boolean proxyProtocol = false;
        boolean optimistic = false;
        List<String> unsupported = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            String opt = parts[i].strip();
            String key = opt.contains("=") ? opt.substring(0, opt.indexOf('=')) : opt;
            String value = opt.contains("=") ? opt.substring(opt.indexOf('=') + 1) : null;
            switch (key) {
                case "push" -> {
                    requireNoValue(where, key, value);
                    push = true;
                }
                case "proxy-protocol" -> {
                    requireNoValue(where, key, value);
                    proxyProtocol = true;
                }
                case "optimistic" -> {
                    requireNoValue(where, key, value);
                    optimistic = true;
                }
                case "peer" -> {
                    requireValue(where, key, value);
                    peer = parsePeer(where, value);
                }
                case "idle" -> {
                    requireValue(where, key, value);
                    idle = parseDuration(where, value);
                    if (idle.toMillis() > Integer.MAX_VALUE / 8) {
                        throw new SpecException(where + "idle=" + value + " is longer than 74 hours");
                    }
                }
                case "record" -> {
                    requireValue(where, key, value);
                    recordMax = parseSize(where, "record", value, 16, TunnelSpec.RECORD_LIMIT);
                }
                case "spool" -> {
                    requireValue(where, key, value);
                    spoolMax = parseSize(where, "spool", value, 1024, io.sdt.codec.Varint.MAX_VALUE);
                }
                case "max" -> {
                    requireValue(where, key, value);
                    max = parseInt(where, "max", value, 1, 1_000_000);
                }
                case "spool-dir" -> {
                    requireValue(where, key, value);
                    spoolDir = value;
                }
                case "fsync" -> {
                    requireValue(where, key, value);
                    if (!List.of("always", "interval", "never").contains(value)) {
                        throw new SpecException(where + "fsync=" + value + ": expected always, interval or never");
                    }
                    fsync = value;
                }
                case "overflow" -> {
                    requireValue(where, key, value);
                    if (!List.of("block", "drop").contains(value)) {
                        throw new SpecException(where + "overflow=" + value + ": expected block or drop");
                    }
                    overflow = value;
                }
                case "spool-max" -> {
                    requireValue(where, key, value);
                    spoolDiskMax = parseSize(where, "spool-max", value, 64 * 1024, Integer.MAX_VALUE);
                }
                case "relp" -> relp = switch (value == null ? "both" : value) {
                    case "both" -> TunnelSpec.Relp.BOTH;
                    case "in" -> TunnelSpec.Relp.IN;
                    case "out" -> TunnelSpec.Relp.OUT;
                    default -> throw new SpecException(where + "relp=" + value + ": expected in, out or both (relp alone"
                            + " is both)");
                };
                case "" -> throw new SpecException(where + "empty option");
                default -> throw new SpecException(where + "unknown option '" + key
                        + "' (expected push, peer=IP:PORT, idle=DURATION, max=N, record=SIZE, spool=SIZE, spool-dir=DIR,"
                        + " fsync=always|interval|never, overflow=block|drop, spool-max=SIZE, relp[=in|out|both],"
                        + " proxy-protocol or, for a reverse dynamic listener, optimistic)");
            }
        }
        List<String> tokens = splitColons(where, addr);
        if (tokens.size() == 1 || tokens.size() == 2) {
            if (direction == Direction.REMOTE) {
                // reverse dynamic forwarding, OpenSSH's -R [BIND_ADDR:]PORT
                if (udp || push || peer != null || idle != null || recordMax > 0 || spoolMax > 0 || spoolDir != null
                        || relp != TunnelSpec.Relp.NONE || proxyProtocol) {
                    throw new SpecException(where + "a reverse dynamic listener (no target) takes only max=N and"
                            + " optimistic");
                }
                TunnelSpec spec = dynamic(direction, where, tokens, max, text);
                return optimistic ? spec.withOptimistic() : spec;
            }
            throw new SpecException(where + "missing target (expected [BIND_ADDR:]PORT:HOST:HOSTPORT; "
                    + "for a SOCKS5/HTTP CONNECT listener use -D [BIND_ADDR:]PORT)");
        }
        if (optimistic) {
            throw new SpecException(where + "optimistic applies to a dynamic listener only (-D, or -R without"
                    + " a target)");
        }
        if (tokens.size() != 3 && tokens.size() != 4) {
            throw new SpecException(where + "expected [BIND_ADDR:]PORT:HOST:HOSTPORT (IPv6 addresses in brackets)");
        }
        int o = tokens.size() - 3;
        String bindHost = o == 1 ? bindAddress(tokens.get(0)) : "127.0.0.1";
        int bindPort = parseInt(where, "port", tokens.get(o), 0, 65535);
        String host = tokens.get(o + 1);
        if (host.isEmpty()) {
            throw new SpecException(where + "empty target host");
        }
        int hostPort = parseInt(where, "target port", tokens.get(o + 2), 1, 65535);
        if (idle != null && !udp) {
            throw new SpecException(where + "idle= applies to /udp tunnels only");
        }
        if ((recordMax > 0 || spoolMax > 0) && (udp || !push)) {
            throw new SpecException(where + "record= and spool= apply to TCP push tunnels only");
        }
        if ((fsync != null || overflow != null || spoolDiskMax > 0) && spoolDir == null) {
            throw new SpecException(where + "fsync=, overflow= and spool-max= go with spool-dir=DIR");
        }
        if (spoolDir != null && (udp || !push)) {
            throw new SpecException(where + "spool-dir= applies to TCP push tunnels only (UDP push may lose datagrams by design)");
        }
        if (spoolDir != null && direction == Direction.REMOTE) {
            throw new SpecException(where + "spool-dir= applies to -L push tunnels: with -R the ingress, and so the"
                    + " spool, would be on the server, which does not take directories from its clients");
        }
        if (spoolDir != null && spoolDir.isBlank()) {
            throw new SpecException(where + "spool-dir= needs a directory");
        }
        if (proxyProtocol && (udp || push)) {
            throw new SpecException(where + "proxy-protocol applies to TCP tunnels that are not push (the target gets"
                    + " one PROXY header per connection, naming its customer)");
        }
        if (relp != TunnelSpec.Relp.NONE && (udp || !push)) {
            throw new SpecException(where + "relp applies to TCP push tunnels only (,push,relp)");
        }
        if (relp != TunnelSpec.Relp.NONE && direction == Direction.REMOTE) {
            throw new SpecException(where + "relp applies to -L push tunnels: with -R the server would run the RELP"
                    + " listener and its durable spool, and it does not take directories from its clients");
        }
        if (relp.in() && spoolDir == null) {
            throw new SpecException(where + "relp (or relp=in) answers producers only once a record is on disk, so it"
                    + " needs spool-dir=DIR; use relp=out to speak RELP only towards the target");
        }
        if (relp.in() && "drop".equals(overflow)) {
            throw new SpecException(where + "relp (or relp=in) with overflow=drop: RELP producers wait for their"
                    + " acknowledgements, so a full spool holds them (overflow=block) instead of dropping");
        }
        TunnelSpec.DurablePush durable = spoolDir == null ? null : new TunnelSpec.DurablePush(
                java.nio.file.Path.of(spoolDir), fsync == null ? TunnelSpec.DurablePush.DEFAULT_FSYNC : fsync,
                "drop".equals(overflow), spoolDiskMax > 0 ? spoolDiskMax : TunnelSpec.DurablePush.DEFAULT_MAX_BYTES);
        if (!unsupported.isEmpty()) {
            throw new SpecException(where + String.join(", ", unsupported) + " is not supported yet");
        }
        try {
            return new TunnelSpec(direction, udp, new HostPort(bindHost, bindPort), new HostPort(host, hostPort), max,
                    idle, push, peer, recordMax, spoolMax, durable, relp, proxyProtocol, text);
        } catch (IllegalArgumentException e) {
            throw new SpecException(where + e.getMessage());
        }
    }

    private static String bindAddress(String token) {
        return switch (token) {
            case "", "*" -> "0.0.0.0";
            case "localhost" -> "127.0.0.1";
            default -> token;
        };
    }

    /** Splits on colons outside brackets and strips the brackets. */
    static List<String> splitColons(String where, String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean bracket = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '[') {
                if (bracket || !cur.isEmpty()) {
                    throw new SpecException(where + "misplaced '['");
                }
                bracket = true;
            } else if (c == ']') {
                if (!bracket) {
                    throw new SpecException(where + "misplaced ']'");
                }
                bracket = false;
                if (i + 1 < s.length() && s.charAt(i + 1) != ':') {
                    throw new SpecException(where + "expected ':' after ']'");
                }
            } else if (c == ':' && !bracket) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (bracket) {
            throw new SpecException(where + "unclosed '['");
        }
        out.add(cur.toString());
        return out;
    }

    /** {@code IP:PORT} or {@code IP:*} (any port); a name is refused: sources are matched by address. */
    static HostPort parsePeer(String where, String value) {
        List<String> t = splitColons(where, value);
        if (t.size() != 2 || t.get(0).isEmpty()) {
            throw new SpecException(where + "peer must be IP:PORT or IP:* (IPv6 in brackets), got '" + value + "'");
        }
        if (io.netty.util.NetUtil.createByteArrayFromIpAddressString(t.get(0)) == null) {
            throw new SpecException(where + "peer must be an IP address (sources are matched by address), got '"
                    + t.get(0) + "'");
        }
        int port = t.get(1).equals("*") ? 0 : parseInt(where, "peer port", t.get(1), 1, 65535);
        return new HostPort(t.get(0), port);
    }

    /** A byte size: {@code 512}, {@code 8k}, {@code 64m}, {@code 1g} (powers of 1024). */
    static int parseSize(String where, String what, String value, long min, long max) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        long mult = switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        String num = mult == 1 ? v : v.substring(0, v.length() - 1);
        try {
            long n = Long.parseLong(num) * mult;
            if (n < min || n > max) {
                throw new SpecException(where + what + "=" + value + " is out of range " + min + ".." + max + " bytes");
            }
            return (int) n;
        } catch (NumberFormatException e) {
            throw new SpecException(where + what + "=" + value + " is not a size (e.g. 8k, 64m)");
        }
    }

    static int parseInt(String where, String what, String value, int min, int max) {
        try {
            int v = Integer.parseInt(value.strip());
            if (v < min || v > max) {
                throw new SpecException(where + what + " " + v + " is out of range " + min + ".." + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new SpecException(where + what + " '" + value + "' is not a number");
        }
    }

    /** Parses {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}; a bare number means seconds. */
    public static Duration parseDuration(String where, String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return positive(where, value, Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2))));
            }
            char unit = v.isEmpty() ? ' ' : v.charAt(v.length() - 1);
            String num = Character.isDigit(unit) ? v : v.substring(0, v.length() - 1);
            long n = Long.parseLong(num);
            Duration d = switch (unit) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> {
                    if (!Character.isDigit(unit)) {
                        throw new NumberFormatException();
                    }
                    yield Duration.ofSeconds(n);
                }
            };
            return positive(where, value, d);
        } catch (NumberFormatException e) {
            throw new SpecException(where + "bad duration '" + value + "' (expected e.g. 500ms, 30s, 5m, 1h)");
        }
    }

    private static Duration positive(String where, String value, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new SpecException(where + "duration '" + value + "' must be positive");
        }
        return d;
    }

    private static void requireValue(String where, String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new SpecException(where + "option " + key + "= needs a value");
        }
    }

    private static void requireNoValue(String where, String key, String value) {
        if (value != null) {
            throw new SpecException(where + "option " + key + " takes no value");
        }
    }

    /**
     * Parses {@code -D [BIND_ADDR:]PORT[,max=N][,optimistic]}: a local SOCKS5 / HTTP CONNECT listener whose
     * traffic exits at the server.
     */
    public static TunnelSpec parseDynamic(String text) {
        String where = "-D " + text + ": ";
        if (text == null || text.isBlank()) {
            throw new SpecException("-D: empty spec (expected [BIND_ADDR:]PORT)");
        }
        String[] parts = text.split(",", -1);
        int max = 0;
        boolean optimistic = false;
        for (int i = 1; i < parts.length; i++) {
            String opt = parts[i].strip();
            int eq = opt.indexOf('=');
            String key = eq < 0 ? opt : opt.substring(0, eq);
            String value = eq < 0 ? null : opt.substring(eq + 1);
            switch (key) {
                case "max" -> {
                    requireValue(where, key, value);
                    max = parseInt(where, "max", value, 1, 1_000_000);
                }
                case "optimistic" -> {
                    requireNoValue(where, key, value);
                    optimistic = true;
                }
                default -> throw new SpecException(where + "unknown option '" + key
                        + "' (a dynamic listener takes max=N and optimistic)");
            }
        }
        TunnelSpec spec = dynamic(Direction.LOCAL, where, splitColons(where, parts[0]), max, text);
        return optimistic ? spec.withOptimistic() : spec;
    }

    private static TunnelSpec dynamic(Direction direction, String where, List<String> tokens, int max, String text) {
        if (tokens.size() != 1 && tokens.size() != 2) {
            throw new SpecException(where + "expected [BIND_ADDR:]PORT (IPv6 addresses in brackets)");
        }
        String bindHost = tokens.size() == 2 ? bindAddress(tokens.get(0)) : "127.0.0.1";
        int bindPort = parseInt(where, "port", tokens.get(tokens.size() - 1), 0, 65535);
        try {
            return new TunnelSpec(direction, false, new HostPort(bindHost, bindPort), null, max, null, false, null,
                    0, 0, null, text);
        } catch (IllegalArgumentException e) {
            throw new SpecException(where + e.getMessage());
        }
    }
}
