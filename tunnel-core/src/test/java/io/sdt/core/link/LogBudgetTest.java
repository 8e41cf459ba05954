package io.sdt.core.link;

import io.sdt.core.testing.LogCapture;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogBudgetTest {

    private static final String LOGGER = "sdt.test.log-budget";
    private final AtomicLong now = new AtomicLong(1_000);
    private LogCapture capture;

    @BeforeEach
    void capture() {
        capture = LogCapture.of(LOGGER);
    }

    @AfterEach
    void stop() {
        capture.close();
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
        assertEquals(List.of("refusing 0", "refusing 1", "refusing 2"), capture.lines());
        b.summarize();
        assertEquals(3, capture.lines().size(), "no summary before the window has passed");
        now.addAndGet(TimeUnit.SECONDS.toNanos(60));
        b.summarize();
        assertEquals("997 more refused connections in the last 60 s, not logged one by one (see /metrics)", capture.lines().get(3));
        b.summarize();
        assertEquals(4, capture.lines().size(), "one summary per window");
    }

    @Test
    void aNewWindowLogsInFullAgainAndAQuietWindowWritesNoSummary() {
        LogBudget b = budget();
        b.log(Level.INFO, "a");
        now.addAndGet(TimeUnit.SECONDS.toNanos(61));
        b.summarize();
        assertEquals(List.of("a"), capture.lines(), "nothing was suppressed: no summary");
        for (int i = 0; i < 5; i++) {
            b.log(Level.INFO, "b{}", i);
        }
        now.addAndGet(TimeUnit.SECONDS.toNanos(61));
        b.log(Level.INFO, "c"); // the next event closes the window too
        assertEquals(List.of("a", "b0", "b1", "b2",
                "2 more refused connections in the last 60 s, not logged one by one (see /metrics)", "c"), capture.lines());
        assertTrue(b.take() && b.take() && !b.take(), "the new window has its own budget of 3");
    }
}
