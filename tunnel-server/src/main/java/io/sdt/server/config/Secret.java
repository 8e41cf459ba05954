package io.sdt.server.config;

/**
 * A value written inline in a configuration file that must never be shown: its {@code toString()}
 * is a mask, so it cannot leak through a log line, {@code --print-config} or {@code /tunnels}.
 */
public record Secret(String value) {

    public static final String MASK = "********";

    @Override
    public String toString() {
        return MASK;
    }
}
