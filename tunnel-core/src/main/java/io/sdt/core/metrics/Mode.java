package io.sdt.core.metrics;

import java.util.Locale;

/**
 * The {@code mode} tag of a tunnel's metrics. Derived from the tunnel's spec by {@link #of} alone, so
 * the core's histograms and the admin endpoint's per-tunnel meters always agree.
 */
public enum Mode {
    TCP, UDP, PUSH, DIRECT, DYNAMIC;

    /** Lower case, as the tag is written. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The mode of a spec, in this precedence: dynamic (a router), direct ({@code peer=}), push, udp, tcp.
     *
     * @param dynamic the spec has no target
     * @param direct  the spec has {@code peer=}
     */
    public static Mode of(boolean dynamic, boolean direct, boolean push, boolean udp) {
        if (dynamic) {
            return DYNAMIC;
        }
        if (direct) {
            return DIRECT;
        }
        if (push) {
            return PUSH;
        }
        return udp ? UDP : TCP;
    }
}
