package io.sdt.core.policy;

import io.netty.util.NetUtil;
import io.sdt.codec.HostPort;

import java.util.Locale;

/**
 * One allow rule, {@code HOSTS[:PORTS]} (README, "Using it"; docs/CONFIG.md). HOSTS is {@code *}, a host name
 * ({@code db.internal}), a suffix wildcard ({@code *.internal}: any name ending in {@code .internal}),
 * an IP or a CIDR ({@code 10.0.0.0/8}, {@code [fd00::]/8}). PORTS is {@code *}, {@code N} or
 * {@code N-M}. IP and CIDR rules match IP-literal hosts; name rules match names as written. A name
 * is never resolved to decide policy, so DNS cannot widen what a rule allows.
 */
public final class PolicyRule {

    private enum Kind { ANY, NAME, SUFFIX, CIDR }

    private final String text;
    private final Kind kind;
    private final String name;
    private final byte[] network;
    private final int prefix;
    private final int minPort;
    private final int maxPort;

    private PolicyRule(String text, Kind kind, String name, byte[] network, int prefix, int minPort, int maxPort) {
        this.text = text;
        this.kind = kind;
        this.name = name;
        this.network = network;
        this.prefix = prefix;
        this.minPort = minPort;
        this.maxPort = maxPort;
    }

    /**
     * @param flag the flag the rule came from, for the error message
     * @throws RuleException if the rule is malformed
     */
    public static PolicyRule parse(String flag, String rule) {
        String where = flag + " " + rule + ": ";
        String r = rule == null ? "" : rule.strip();
        if (r.isEmpty()) {
            throw new RuleException(flag + ": empty rule (expected HOSTS[:PORTS])");
        }
        String hosts;
        String ports = "*";
        if (r.startsWith("[")) {
            int close = r.indexOf(']');
            if (close < 0) {
                throw new RuleException(where + "unclosed '['");
            }
            String rest = r.substring(close + 1);
            String suffix = "";
            int colon = rest.lastIndexOf(':');
            if (colon >= 0) {
                ports = rest.substring(colon + 1);
                rest = rest.substring(0, colon);
            }
            if (!rest.isEmpty() && !rest.startsWith("/")) {
                throw new RuleException(where + "expected /PREFIX or :PORTS after ']'");
            }
            suffix = rest;
            hosts = r.substring(1, close) + suffix;
        } else {
            int colon = r.lastIndexOf(':');
            if (colon >= 0) {
                if (r.indexOf(':') != colon) {
                    throw new RuleException(where + "IPv6 addresses go in brackets, e.g. [fd00::]/8:443");
                }
                ports = r.substring(colon + 1);
                hosts = r.substring(0, colon);
            } else {
                hosts = r;
            }
        }
        int[] range = parsePorts(where, ports);
        if (hosts.equals("*")) {
            return new PolicyRule(r, Kind.ANY, null, null, 0, range[0], range[1]);
        }
        if (hosts.startsWith("*.")) {
            String suffix = hosts.substring(1).toLowerCase(Locale.ROOT);
            checkName(where, suffix.substring(1));
            return new PolicyRule(r, Kind.SUFFIX, suffix, null, 0, range[0], range[1]);
        }
        String ip = hosts;
        int prefix = -1;
        int slash = hosts.indexOf('/');
        if (slash >= 0) {
            ip = hosts.substring(0, slash);
            try {
                prefix = Integer.parseInt(hosts.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new RuleException(where + "bad CIDR prefix '" + hosts.substring(slash + 1) + "'");
            }
        }
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
        if (bytes != null) {
            int bits = bytes.length * 8;
            if (prefix < 0) {
                prefix = bits;
            }
            if (prefix > bits) {
                throw new RuleException(where + "CIDR prefix /" + prefix + " is longer than " + bits + " bits");
            }
            return new PolicyRule(r, Kind.CIDR, null, mask(bytes, prefix), prefix, range[0], range[1]);
        }
        if (slash >= 0) {
            throw new RuleException(where + "'" + ip + "' is not an IP address");
        }
        checkName(where, hosts);
        return new PolicyRule(r, Kind.NAME, hosts.toLowerCase(Locale.ROOT), null, 0, range[0], range[1]);
    }

    public boolean matches(HostPort target) {
        if (target.port() < minPort || target.port() > maxPort) {
            return false;
        }
        return switch (kind) {
            case ANY -> true;
            case NAME -> !target.isIpLiteral() && target.host().toLowerCase(Locale.ROOT).equals(name);
            case SUFFIX -> !target.isIpLiteral() && target.host().toLowerCase(Locale.ROOT).endsWith(name);
            case CIDR -> {
                byte[] ip = NetUtil.createByteArrayFromIpAddressString(target.host());
                yield ip != null && ip.length == network.length && java.util.Arrays.equals(mask(ip, prefix), network);
            }
        };
    }

    @Override
    public String toString() {
        return text;
    }

    private static int[] parsePorts(String where, String ports) {
        if (ports.equals("*")) {
            return new int[] {0, 65535};
        }
        try {
            int dash = ports.indexOf('-');
            int lo = Integer.parseInt(dash < 0 ? ports : ports.substring(0, dash));
            int hi = dash < 0 ? lo : Integer.parseInt(ports.substring(dash + 1));
            if (lo < 0 || hi > 65535 || lo > hi) {
                throw new RuleException(where + "port range '" + ports + "' is out of 0..65535 or reversed");
            }
            return new int[] {lo, hi};
        } catch (NumberFormatException e) {
            throw new RuleException(where + "bad ports '" + ports + "' (expected *, N or N-M)");
        }
    }

    private static void checkName(String where, String name) {
        if (name.isEmpty() || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new RuleException(where + "'" + name + "' is not a host name, IP or CIDR");
        }
    }

    private static byte[] mask(byte[] ip, int prefix) {
        byte[] out = ip.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] &= (byte) (0xFF << (8 - keep));
        }
        return out;
    }
}
