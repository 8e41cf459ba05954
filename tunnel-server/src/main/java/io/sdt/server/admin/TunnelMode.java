package io.sdt.server.admin;

import io.sdt.core.metrics.ModeTag;
import io.sdt.core.tunnel.TunnelSpec;

/** The {@code mode} tag of a tunnel, derived from its spec. */
final class TunnelMode {

    private TunnelMode() {
    }

    /**
     * {@code dynamic}, {@code direct} (peer=), {@code push}, {@code udp} or {@code tcp}, in that precedence:
     * the core's {@link ModeTag}, so these tags match the channel-open histogram's.
     */
    static String of(TunnelSpec spec) {
        return spec.tag().tag();
    }

    /** {@code local} or {@code remote}. */
    static String direction(TunnelSpec spec) {
        return spec.direction() == TunnelSpec.Direction.LOCAL ? "local" : "remote";
    }
}
