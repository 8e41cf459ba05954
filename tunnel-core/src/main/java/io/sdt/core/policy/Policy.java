package io.sdt.core.policy;

import io.netty.util.NetUtil;
import io.sdt.codec.HostPort;

import java.util.List;
import java.util.Optional;

/**
 * A list of allow rules: an address is allowed if any rule matches, denied otherwise (deny by
 * default). Immutable and thread-safe.
 */
public final class Policy {

    private final List<PolicyRule> rules;

    private Policy(List<PolicyRule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static Policy of(List<PolicyRule> rules) {
        return new Policy(rules);
    }

    /** Parses every rule; the first bad one throws a {@link RuleException} naming {@code flag}. */
    public static Policy parse(String flag, List<String> rules) {
        return new Policy(rules.stream().map(r -> PolicyRule.parse(flag, r)).toList());
    }

    public static Policy denyAll() {
        return new Policy(List.of());
    }

    /**
     * The first rule that allows {@code address}, if any. A host that is neither an IP literal nor a
     * possible DNS name but that some resolvers read as an IPv4 address ({@code 2130706433},
     * {@code 127.1}, {@code 0x7f.1}, {@code 127.000.0.1}) matches nothing: it could otherwise reach
     * an address that no IP rule allows.
     */
    public Optional<PolicyRule> match(HostPort address) {
        if (isAmbiguousIpv4(address.host())) {
            return Optional.empty();
        }
        for (PolicyRule r : rules) {
            if (r.matches(address)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /**
     * Digits, dots and hex prefixes only, yet not a plain dotted-quad literal (inet_aton's legacy
     * forms), or a dotted quad with a leading zero (octal to some parsers, decimal to others).
     */
    static boolean isAmbiguousIpv4(String host) {
        if (NetUtil.isValidIpV6Address(host)) {
            return false;
        }
        if (NetUtil.isValidIpV4Address(host)) {
            // 010.0.0.1 is 10.0.0.1 to some parsers and 8.0.0.1 (octal) to inet_aton
            for (String part : host.split("\\.")) {
                if (part.length() > 1 && part.charAt(0) == '0') {
                    return true;
                }
            }
            return false;
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        for (String part : h.split("\\.", -1)) {
            if (!part.matches("[0-9]+|0x[0-9a-f]*")) {
                return false;
            }
        }
        return true;
    }

    public boolean allows(HostPort address) {
        return match(address).isPresent();
    }

    public List<PolicyRule> rules() {
        return rules;
    }

    @Override
    public String toString() {
        return rules.isEmpty() ? "(deny all)" : rules.toString();
    }
}
