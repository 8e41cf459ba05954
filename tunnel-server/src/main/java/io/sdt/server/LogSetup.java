package io.sdt.server;

import io.sdt.core.policy.AuditLog;
import io.sdt.server.config.ConfigException;
import io.sdt.server.config.NodeConfig;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AsyncAppender;
import org.apache.logging.log4j.core.appender.RollingFileAppender;
import org.apache.logging.log4j.core.appender.rolling.DefaultRolloverStrategy;
import org.apache.logging.log4j.core.appender.rolling.SizeBasedTriggeringPolicy;
import org.apache.logging.log4j.core.config.AppenderRef;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Applies a configuration's {@code logging} section. log4j2.properties reads the system properties
 * {@code sdt.log.level}, {@code sdt.audit.format} and {@code sdt.audit.level} before the
 * environment variables, so setting them and reconfiguring switches level and audit format live.
 * An audit file ({@code --audit-file}, {@code logging.audit_file}) is attached here, to the
 * {@code sdt.audit} logger in place of stderr: a rolling file (by size, {@value #KEEP} old files
 * kept) behind the same bounded, blocking queue as the console, with the layout of the format in force.
 * A flood of channel opens then fills the audit file, not the operational log.
 */
final class LogSetup {

    /** The audit file rolls over at this size unless {@code logging.audit_file_size} says otherwise. */
    static final String DEFAULT_AUDIT_FILE_SIZE = "64m";
    /** Rolled-over audit files kept: F.1 (newest) to F.5. */
    static final int KEEP = 5;

    private static NodeConfig.Logging applied;

    private LogSetup() {
    }

    static synchronized void apply(NodeConfig.Logging logging) {
        // not Objects.equals: a record's first equals() spins its method handles (~20 ms of a node's start)
        if (applied != null && applied.equals(logging)) {
            return;
        }
        int rollAt = auditFileSize(logging);
        if (logging.auditFile() != null) {
            checkWritable(logging.auditFile());
        }
        set("sdt.log.level", logging.level());
        String audit = logging.audit();
        set("sdt.audit.format", audit == null || audit.equals("off") ? null : audit);
        set("sdt.audit.level", "off".equals(audit) ? "off" : null);
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        if (applied != null || logging.level() != null || audit != null || logging.auditFile() != null) {
            ctx.reconfigure(); // also drops the audit file of the configuration before
        }
        if (logging.auditFile() != null && !"off".equals(audit)) {
            attachAuditFile(ctx, logging.auditFile(), rollAt);
        }
        applied = logging;
    }

    private static int auditFileSize(NodeConfig.Logging logging) {
        String size = logging.auditFileSize() == null ? DEFAULT_AUDIT_FILE_SIZE : logging.auditFileSize();
        try {
            return Sizes.parse(size);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(List.of("logging.audit_file_size: " + e.getMessage() + "; got '" + size + "'"));
        }
    }

    /** A clear error before anything starts, rather than an audit trail that silently goes nowhere. */
    private static void checkWritable(Path file) {
        try (OutputStream ignored = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            // opened for append: the appender will be able to write it
        } catch (IOException e) {
            throw new ConfigException("--audit-file / logging.audit_file " + file + ": cannot write it (" + e + ")");
        }
    }

    private static void attachAuditFile(LoggerContext ctx, Path file, int rollAt) {
        Configuration cfg = ctx.getConfiguration();
        LoggerConfig audit = cfg.getLoggerConfig(AuditLog.LOGGER);
        // the layout of the console appender the format selected (audit-text-async -> audit-text)
        Appender console = audit.getAppenders().values().stream().findFirst()
                .map(a -> a instanceof AsyncAppender async ? cfg.getAppender(async.getAppenderRefStrings()[0]) : a)
                .orElseThrow(() -> new IllegalStateException("log4j2.properties has no appender for " + AuditLog.LOGGER));
        RollingFileAppender rolling = RollingFileAppender.newBuilder()
                .setName("audit-file")
                .withFileName(file.toString())
                .withFilePattern(file + ".%i")
                .withPolicy(SizeBasedTriggeringPolicy.createPolicy(Integer.toString(rollAt)))
                .withStrategy(DefaultRolloverStrategy.newBuilder().withMin("1").withMax(Integer.toString(KEEP))
                        .withFileIndex("min").withConfig(cfg).build())
                .setLayout(console.getLayout())
                .setImmediateFlush(false) // flushed when the writer thread's queue is empty (end of batch)
                .setConfiguration(cfg)
                .build();
        if (rolling == null) {
            throw new ConfigException("--audit-file / logging.audit_file " + file + ": Log4j2 could not open it");
        }
        rolling.start();
        cfg.addAppender(rolling);
        AsyncAppender queue = AsyncAppender.newBuilder()
                .setName("audit-file-async")
                .setAppenderRefs(new AppenderRef[] {AppenderRef.createAppenderRef("audit-file", null, null)})
                .setBufferSize(4096)
                .setBlocking(true)
                .setConfiguration(cfg)
                .build();
        queue.start();
        cfg.addAppender(queue);
        for (String name : List.copyOf(audit.getAppenders().keySet())) {
            audit.removeAppender(name);
        }
        audit.addAppender(queue, null, null);
        ctx.updateLoggers();
    }

    private static void set(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }
}
