package io.sdt.server.admin;

import io.sdt.core.tunnel.TunnelSpec;

/** The {@code mode} tag of a tunnel, derived from its spec. */
final class TunnelMode {

    private TunnelMode() {
    }

    /** {@code dynamic}, {@code direct} (peer=), {@code push}, {@code udp} or {@code tcp}, in that precedence. */
    static String of(TunnelSpec spec) {
        if (spec.dynamic()) {
            return "dynamic";
        }
        if (spec.peer() != null) {
            return "direct";
        }
        if (spec.push()) {
            return "push";
        }
        return spec.udp() ? "udp" : "tcp";
    }

    /** {@code local} or {@code remote}. */
    static String direction(TunnelSpec spec) {
        return spec.direction() == TunnelSpec.Direction.LOCAL ? "local" : "remote";
    }
}
