package io.sdt.core.link;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The numbers of per-channel flow control: {@link SendWindow} and {@link ReceiveWindow}. */
class WindowsTest {

    @Test
    void sendCreditIsTheAdvertisedWindowPlusIncrementsLessWhatWasSent() {
        SendWindow w = new SendWindow();
        assertEquals(0, w.available());
        assertFalse(w.fits(1), "nothing may be sent before the peer answers OPEN");
        w.open(1000);
        assertTrue(w.fits(1000));
        assertFalse(w.fits(1001));
        w.consume(600);
        assertEquals(400, w.available());
        assertTrue(w.grant(100));
        assertEquals(500, w.available());
        w.consume(500);
        assertEquals(0, w.available());
        assertFalse(w.fits(1));
    }

    @Test
    void creditAbove2To31IsAProtocolViolation() {
        SendWindow w = new SendWindow();
        w.open(Integer.MAX_VALUE - 10);
        assertTrue(w.grant(10));
        assertFalse(w.grant(1), "one more byte of credit than an int holds");
    }

    @Test
    void sendingMoreThanTheCreditIsAProgrammingError() {
        SendWindow w = new SendWindow();
        w.open(10);
        assertThrows(AssertionError.class, () -> w.consume(11));
    }

    @Test
    void creditGoesBackAQuarterWindowAtATimeAndOnlyForConsumedBytes() {
        ReceiveWindow w = new ReceiveWindow(1000);
        assertEquals(1000, w.size());
        assertTrue(w.receive(1000), "a full window is allowed");
        assertEquals(0, w.consume(100), "under a quarter: wait");
        assertEquals(0, w.consume(149));
        assertEquals(250, w.consume(1), "a quarter window (250) consumed: send it back");
        assertEquals(750, w.outstanding());
        assertTrue(w.receive(250), "the peer may send again what was credited");
        assertFalse(w.receive(1), "one byte beyond the window");
    }

    @Test
    void aSlowConsumerKeepsTheWindowClosed() {
        ReceiveWindow w = new ReceiveWindow(4096);
        assertTrue(w.receive(4096));
        assertFalse(w.receive(1), "nothing consumed, nothing credited: the peer must wait");
    }

    @Test
    void tinyWindowsCreditEveryByte() {
        ReceiveWindow w = new ReceiveWindow(3);
        assertEquals(1, w.consume(1));
        assertThrows(IllegalArgumentException.class, () -> new ReceiveWindow(0));
    }
}
