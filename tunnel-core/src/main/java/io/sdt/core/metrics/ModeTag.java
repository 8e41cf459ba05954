package io.sdt.core.metrics;

import java.util.Locale;

/**
 * The {@code mode} tag of a tunnel's metrics: {@code tcp}, {@code udp}, {@code push}, {@code direct} or
 * {@code dynamic}. A tunnel's spec gives its tag ({@code TunnelSpec.tag()}), so the core's histograms and
 * the admin endpoint's per-tunnel meters always agree.
 */
public enum ModeTag {
    TCP, UDP, PUSH, DIRECT, DYNAMIC;

    /** Lower case, as the tag is written. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
