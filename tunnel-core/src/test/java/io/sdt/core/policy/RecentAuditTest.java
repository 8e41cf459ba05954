package io.sdt.core.policy;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentAuditTest {

    private static void add(RecentAudit r, int n) {
        r.add(1000L + n, "link-1", "127.0.0.1:" + n, 1, n, "tcp", "example:" + n, n % 2 == 0, "rule-" + n);
    }

    private static List<Long> seqs(List<RecentAudit.Event> events) {
        return events.stream().map(RecentAudit.Event::seq).toList();
    }

    @Test
    void keepsTheNewestNewestFirstAndCountsThemAll() {
        RecentAudit r = new RecentAudit(3);
        assertTrue(r.latest(0, 10).isEmpty());
        assertEquals(0, r.total());
        for (int i = 1; i <= 2; i++) {
            add(r, i);
        }
        assertEquals(List.of(2L, 1L), seqs(r.latest(0, 10)));
        for (int i = 3; i <= 7; i++) {
            add(r, i);
        }
        assertEquals(7, r.total(), "every event counts, kept or not");
        assertEquals(List.of(7L, 6L, 5L), seqs(r.latest(0, 10)), "only the ring's size is kept");
        assertEquals(List.of(7L), seqs(r.latest(0, 1)));
        assertEquals(List.of(7L, 6L), seqs(r.latest(5, 10)), "after a seen seq: only newer ones");
        assertTrue(r.latest(7, 10).isEmpty());
        RecentAudit.Event e = r.latest(0, 1).getFirst();
        assertEquals("example:7", e.target());
        assertEquals(1007L, e.timeMillis());
        assertEquals(false, e.allowed());
        assertEquals("rule-7", e.rule());
    }

    @Test
    void theDefaultRingHoldsItsSizeAndNoMore() {
        assertThrows(IllegalArgumentException.class, () -> new RecentAudit(0));
        RecentAudit r = new RecentAudit();
        for (int i = 1; i <= RecentAudit.DEFAULT_SIZE + 100; i++) {
            add(r, i);
        }
        List<RecentAudit.Event> kept = r.latest(0, 10_000);
        assertEquals(RecentAudit.DEFAULT_SIZE, kept.size());
        assertEquals(RecentAudit.DEFAULT_SIZE + 100L, kept.getFirst().seq());
        assertEquals(101L, kept.getLast().seq());
    }
}
