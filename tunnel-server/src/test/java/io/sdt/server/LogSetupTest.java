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
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A configuration's logging section switches the level and the audit format of the running Log4j2. */
class LogSetupTest {

    private java.net.URI testConfig;

    /** The product's log4j2.properties, not the tests' log4j2-test.xml that the tunnel-core test jar brings. */
    @BeforeEach
    void productConfiguration() throws Exception {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        testConfig = ctx.getConfigLocation();
        ctx.setConfigLocation(Main.class.getResource("/log4j2.properties").toURI());
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

    /**
     * The audit appenders flush at the end of a batch (their writer thread's queue is empty), not per event:
     * an event alone, and the last of a burst, must still reach the file while the node runs.
     */
    @Test
    void anAuditEventAloneAndTheLastOfABurstAreInTheFileAtOnce(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("audit.log");
        LogSetup.apply(new NodeConfig.Logging(null, "text", file, null));
        try {
            org.apache.logging.log4j.Logger log = LogManager.getLogger(AuditLog.LOGGER);
            log.info("alone");
            io.sdt.core.testing.Await.until("the lone event in the file", java.time.Duration.ofSeconds(10),
                    () -> read(file).contains("alone"));
            for (int i = 0; i < 2000; i++) {
                log.info("burst {}", i);
            }
            io.sdt.core.testing.Await.until("the burst's last event in the file", java.time.Duration.ofSeconds(10),
                    () -> read(file).contains("burst 1999"));
            assertEquals(2001, read(file).lines().count(), "every event, once");
        } finally {
            LogSetup.apply(NodeConfig.Logging.DEFAULT);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anAuditFileTakesTheAuditTrailFromStderrAndRollsOverBySize(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("audit.log");
        LogSetup.apply(new NodeConfig.Logging(null, "json", file, "2k"));
        assertEquals(java.util.Set.of("audit-file-async"), audit().getAppenders().keySet(), "not stderr any more");
        org.apache.logging.log4j.Logger log = LogManager.getLogger(AuditLog.LOGGER);
        for (int i = 0; i < 60; i++) {
            log.info("event {} {}", i, "x".repeat(40));
        }
        LogSetup.apply(NodeConfig.Logging.DEFAULT); // stops the file appender: its queue drains, the file closes
        assertTrue(audit().getAppenders().containsKey("audit-text-async"), "back on stderr");

        assertTrue(Files.exists(dir.resolve("audit.log.1")), "rolled over at 2 KiB");
        assertFalse(Files.exists(dir.resolve("audit.log.6")), "keeps " + LogSetup.KEEP + " old files");
        List<String> lines = new ArrayList<>();
        for (int i = LogSetup.KEEP; i >= 1; i--) {
            Path old = dir.resolve("audit.log." + i);
            if (Files.exists(old)) {
                assertTrue(Files.size(old) <= 2048 + 200, old + " is " + Files.size(old) + " bytes");
                lines.addAll(Files.readAllLines(old));
            }
        }
        lines.addAll(Files.readAllLines(file));
        assertTrue(lines.getLast().contains("event 59 "), lines.getLast());
        assertTrue(lines.getLast().startsWith("{\"time\":"), "the json layout: " + lines.getLast());
        for (int i = 1; i < lines.size(); i++) { // what is kept is in order and complete, oldest first
            int prev = Integer.parseInt(lines.get(i - 1).replaceAll(".*event (\\d+) .*", "$1"));
            int next = Integer.parseInt(lines.get(i).replaceAll(".*event (\\d+) .*", "$1"));
            assertEquals(prev + 1, next, lines.toString());
        }
    }

    @Test
    void anAuditFileThatCannotBeWrittenOrABadSizeIsAClearErrorBeforeAnythingStarts(@TempDir Path dir) {
        var unwritable = assertThrows(io.sdt.server.config.ConfigException.class,
                () -> LogSetup.apply(NodeConfig.Logging.auditTo(dir.resolve("no-such-dir").resolve("audit.log"))));
        assertTrue(unwritable.getMessage().contains("--audit-file / logging.audit_file"), unwritable.getMessage());
        var badSize = assertThrows(io.sdt.server.config.ConfigException.class,
                () -> LogSetup.apply(new NodeConfig.Logging(null, null, dir.resolve("a.log"), "lots")));
        assertTrue(badSize.getMessage().contains("logging.audit_file_size"), badSize.getMessage());
        assertTrue(audit().getAppenders().containsKey("audit-text-async"), "nothing changed");
    }
}
