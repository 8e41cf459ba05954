package io.sdt.core.testing;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.util.ArrayList;
import java.util.List;

/** The formatted lines a logger (and the loggers below it) writes at INFO and above, while open. */
public final class LogCapture implements AutoCloseable {

    private final String logger;
    private final List<String> lines = new ArrayList<>();
    private final AbstractAppender appender;

    private LogCapture(String logger) {
        this.logger = logger;
        this.appender = new AbstractAppender("capture-" + logger, null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                synchronized (lines) {
                    lines.add(event.getMessage().getFormattedMessage());
                }
            }
        };
        appender.start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        LoggerConfig config = new LoggerConfig(logger, Level.INFO, false);
        config.addAppender(appender, Level.INFO, null);
        ctx.getConfiguration().addLogger(logger, config);
        ctx.updateLoggers();
    }

    /** Starts capturing what {@code logger} writes (instead of the console). */
    public static LogCapture of(String logger) {
        return new LogCapture(logger);
    }

    /** The lines so far. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().removeLogger(logger);
        ctx.updateLoggers();
        appender.stop();
    }
}
