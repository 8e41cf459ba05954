package io.sdt.core.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeliveredMarksTest {

    @TempDir
    Path dir;

    private static String id(int n) {
        byte[] b = new byte[16];
        b[0] = (byte) (n >> 8);
        b[1] = (byte) n;
        b[15] = 7;
        return HexFormat.of().formatHex(b);
    }

    @Test
    void marksOnlyMoveForwardAndOutliveTheProcessInTheirFile() {
        DeliveredMarks m = DeliveredMarks.in(dir);
        assertEquals(0, m.get(id(1)));
        m.advance(id(1), 10);
        m.advance(id(1), 5); // an older write completion: no step back
        m.advance(id(2), 3);
        assertEquals(10, m.get(id(1)));
        DeliveredMarks reopened = DeliveredMarks.in(dir); // what a restarted node maps
        assertEquals(10, reopened.get(id(1)));
        assertEquals(3, reopened.get(id(2)));
        assertEquals(0, reopened.get(id(3)));
    }

    @Test
    void whenEverySlotIsTakenTheLeastRecentlyUpdatedSpoolMakesRoom() {
        DeliveredMarks m = DeliveredMarks.in(dir);
        for (int i = 0; i < DeliveredMarks.SLOTS; i++) {
            m.advance(id(i), i + 1);
        }
        m.advance(id(0), 100); // spool 0 is alive: spool 1 is now the least recently updated
        m.advance(id(DeliveredMarks.SLOTS), 5);
        assertEquals(100, m.get(id(0)));
        assertEquals(0, m.get(id(1)), "forgotten: its records would be delivered again, at least once");
        assertEquals(5, m.get(id(DeliveredMarks.SLOTS)));
        assertEquals(5, DeliveredMarks.in(dir).get(id(DeliveredMarks.SLOTS)));
    }

    @Test
    void withoutADirectoryTheyLiveInMemory() {
        DeliveredMarks m = DeliveredMarks.inMemory();
        m.advance(id(1), 4);
        assertEquals(4, m.get(id(1)));
        assertEquals(0, DeliveredMarks.inMemory().get(id(1)));
    }
}
