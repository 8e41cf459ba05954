package io.sdt.core.policy;

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

    /** Parses every rule; the first bad one throws a {@link io.sdt.core.tunnel.SpecException} naming {@code flag}. */
    public static Policy parse(String flag, List<String> rules) {
        return new Policy(rules.stream().map(r -> PolicyRule.parse(flag, r)).toList());
    }

    public static Policy denyAll() {
        return new Policy(List.of());
    }

    /** The first rule that allows {@code address}, if any. */
    public Optional<PolicyRule> match(HostPort address) {
        for (PolicyRule r : rules) {
            if (r.matches(address)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
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
