package io.sdt.server;

import io.sdt.core.policy.AuditLog;
import io.sdt.server.config.NodeConfig;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A configuration's logging section switches the level and the audit format of the running Log4j2. */
class LogSetupTest {

    private java.net.URI testConfig;

    /** The product's log4j2.xml, not the tests' log4j2-test.xml that the tunnel-core test jar brings. */
    @BeforeEach
    void productConfiguration() throws Exception {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        testConfig = ctx.getConfigLocation();
        ctx.setConfigLocation(Main.class.getResource("/log4j2.xml").toURI());
    }

    @AfterEach
    void restore() {
        LogSetup.apply(NodeConfig.Logging.DEFAULT);
        ((LoggerContext) LogManager.getContext(false)).setConfigLocation(testConfig);
    }

    private static LoggerConfig audit() {
        return ((LoggerContext) LogManager.getContext(false)).getConfiguration().getLoggerConfig(AuditLog.LOGGER);
    }

    @Test
    void levelAndAuditFormatApplyAndRevert() {
        LogSetup.apply(new NodeConfig.Logging("debug", "json"));
        assertTrue(LogManager.getLogger("io.sdt.server.Anything").isDebugEnabled(), "root at debug");
        assertTrue(audit().getAppenders().containsKey("audit-json-async"), audit().getAppenders().keySet().toString());

        LogSetup.apply(new NodeConfig.Logging("warn", "off"));
        assertFalse(LogManager.getLogger("io.sdt.server.Anything").isInfoEnabled(), "root at warn");
        assertEquals(Level.OFF, audit().getLevel());

        LogSetup.apply(NodeConfig.Logging.DEFAULT);
        assertTrue(audit().getAppenders().containsKey("audit-text-async"), audit().getAppenders().keySet().toString());
        assertEquals(Level.INFO, audit().getLevel());
    }
}
