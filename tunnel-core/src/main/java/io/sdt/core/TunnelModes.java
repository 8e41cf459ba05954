package io.sdt.core;

import io.sdt.core.tunnel.Mode;
import io.sdt.core.tunnel.TunnelMode;
import io.sdt.core.tunnel.forward.ForwardMode;
import io.sdt.core.tunnel.push.PushMode;
import io.sdt.core.tunnel.router.RouterMode;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The one place that maps a {@link Mode} to its implementation. Client and server ask here for the
 * ingress of the tunnels they listen for and the egress of the channels their peer opens; a new mode
 * is a package under {@code io.sdt.core.tunnel} and one line below. Immutable.
 */
final class TunnelModes {

    private static final Map<Mode, TunnelMode> MODES = registry();

    private TunnelModes() {
    }

    private static Map<Mode, TunnelMode> registry() {
        EnumMap<Mode, TunnelMode> m = new EnumMap<>(Mode.class);
        TunnelMode forward = new ForwardMode();
        m.put(Mode.FORWARD, forward);
        m.put(Mode.PUSH, new PushMode());
        m.put(Mode.ROUTER, new RouterMode(forward)); // a router's channels are served like forward ones
        for (Mode mode : Mode.values()) {
            if (!m.containsKey(mode)) {
                throw new IllegalStateException("mode " + mode + " has no implementation");
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /** The implementation of {@code mode}. */
    static TunnelMode of(Mode mode) {
        return MODES.get(mode);
    }
}
