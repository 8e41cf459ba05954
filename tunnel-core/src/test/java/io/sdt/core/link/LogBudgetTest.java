package io.sdt.core.link;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogBudgetTest {

    private static final String LOGGER = "sdt.test.log-budget";
    private final List<String> lines = new ArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000);
    private AbstractAppender capture;

    @BeforeEach
    void capture() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        capture = new AbstractAppender("budget-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                synchronized (lines) {
                    lines.add(event.getMessage().getFormattedMessage());
                }
            }
        };
        capture.start();
        LoggerConfig c = new LoggerConfig(LOGGER, Level.INFO, false);
        c.addAppender(capture, Level.INFO, null);
        ctx.getConfiguration().addLogger(LOGGER, c);
        ctx.updateLoggers();
    }

    @AfterEach
    void stop() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().removeLogger(LOGGER);
        ctx.updateLoggers();
        capture.stop();
    }

    private LogBudget budget() {
        return new LogBudget(LogManager.getLogger(LOGGER), "refused connections", 3, 60, TimeUnit.SECONDS, now::get);
    }

    @Test
    void theFirstOfAWindowAreLoggedInFullTheRestCountedAndSummarizedOnce() {
        LogBudget b = budget();
        for (int i = 0; i < 1000; i++) {
            b.log(Level.WARN, "refusing {}", i);
        }
        assertEquals(List.of("refusing 0", "refusing 1", "refusing 2"), lines);
        b.summarize();
        assertEquals(3, lines.size(), "no summary before the window has passed");
        now.addAndGet(TimeUnit.SECONDS.toNanos(60));
        b.summarize();
        assertEquals("997 more refused connections in the last 60 s, not logged one by one (see /metrics)", lines.get(3));
        b.summarize();
        assertEquals(4, lines.size(), "one summary per window");
    }

    @Test
    void aNewWindowLogsInFullAgainAndAQuietWindowWritesNoSummary() {
        LogBudget b = budget();
        b.log(Level.INFO, "a");
        now.addAndGet(TimeUnit.SECONDS.toNanos(61));
        b.summarize();
        assertEquals(List.of("a"), lines, "nothing was suppressed: no summary");
        for (int i = 0; i < 5; i++) {
            b.log(Level.INFO, "b{}", i);
        }
        now.addAndGet(TimeUnit.SECONDS.toNanos(61));
        b.log(Level.INFO, "c"); // the next event closes the window too
        assertEquals(List.of("a", "b0", "b1", "b2",
                "2 more refused connections in the last 60 s, not logged one by one (see /metrics)", "c"), lines);
        assertTrue(b.take() && b.take() && !b.take(), "the new window has its own budget of 3");
    }
}
