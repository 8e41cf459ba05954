package io.sdt.server;

import io.sdt.server.config.NodeConfig;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;

import java.util.Objects;

/**
 * Applies a configuration's {@code logging} section. log4j2.xml reads the system properties
 * {@code sdt.log.level}, {@code sdt.audit.format} and {@code sdt.audit.level} before the
 * environment variables, so setting them and reconfiguring switches level and audit format live.
 */
final class LogSetup {

    private static NodeConfig.Logging applied;

    private LogSetup() {
    }

    static synchronized void apply(NodeConfig.Logging logging) {
        if (Objects.equals(logging, applied)) {
            return;
        }
        set("sdt.log.level", logging.level());
        String audit = logging.audit();
        set("sdt.audit.format", audit == null || audit.equals("off") ? null : audit);
        set("sdt.audit.level", "off".equals(audit) ? "off" : null);
        if (applied != null || logging.level() != null || audit != null) {
            ((LoggerContext) LogManager.getContext(false)).reconfigure();
        }
        applied = logging;
    }

    private static void set(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }
}
