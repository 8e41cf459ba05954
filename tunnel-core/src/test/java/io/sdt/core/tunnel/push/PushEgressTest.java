package io.sdt.core.tunnel.push;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TestLinks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.transport.Outbound;
import io.sdt.core.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The egress of a TCP push channel while its target is away (its connects cannot succeed on an
 * {@link EmbeddedChannel}'s loop): records are spooled, credit goes back as they are, the spool is
 * bounded, and the window is enforced.
 */
@ExtendWith(LeakGuard.class)
class PushEgressTest {

    private static final int WINDOW = LinkSettings.MIN_WINDOW;
    private static final HostPort TARGET = new HostPort("127.0.0.1", 514);
    private static final int CHANNEL = 1;

    private final EmbeddedChannel linkCh = new EmbeddedChannel();
    private final NodeStats stats = new NodeStats();
    private final Link link = TestLinks.over(linkCh, false, LinkSettings.defaults().withWindow(WINDOW), stats,
            (l, open) -> { });
    private final Outbound outbound = new Outbound(Transport.select("nio"));

    @AfterEach
    void release() {
        linkCh.finishAndReleaseAll();
        outbound.close();
    }

    private void open(int spoolMax) {
        PushEgress.open(link, new Frame.Open(CHANNEL, 1, spoolMax, false, true, TARGET), TARGET, outbound, spoolMax);
        Frame.OpenOk ok = assertInstanceOf(Frame.OpenOk.class, linkCh.readOutbound());
        assertEquals(WINDOW, ok.window(), "the egress advertises its own window");
    }

    @Test
    void recordsWaitInTheSpoolAndCreditGoesBackAsTheyAreSpooled() {
        open(1 << 20);
        int record = 1000;
        int sent = 0;
        while (sent + record < WINDOW / 4) {
            TestLinks.receive(link, new Frame.Data(CHANNEL, record(record)));
            sent += record;
        }
        assertNull(linkCh.readOutbound(), "under a quarter window: no WINDOW yet");
        TestLinks.receive(link, new Frame.Data(CHANNEL, record(record)));
        sent += record;
        Frame.Window w = assertInstanceOf(Frame.Window.class, linkCh.readOutbound());
        assertEquals(sent, w.increment());
        assertEquals(sent, stats.pushSpoolBytes(), "all of it spooled: the target is away");
        assertEquals(sent / record, stats.pushSpoolRecords());
        assertEquals(sent, stats.bytesFromLink(), "each payload byte counted once");
    }

    @Test
    void aSpooledRecordDoesNotPinTheLinksReadBuffer() {
        open(1 << 20);
        // what the frame decoder hands over: records that are slices of one 64 KiB read buffer
        ByteBuf read = Unpooled.directBuffer(64 * 1024).writeZero(64 * 1024);
        for (int i = 0; i < 10; i++) {
            TestLinks.receive(link, new Frame.Data(CHANNEL, read.retainedSlice(i * 100, 100)));
        }
        assertEquals(1, read.refCnt(), "no spooled record holds the read buffer any more");
        assertEquals(1000, stats.pushSpoolBytes(), "the records themselves are spooled");
        read.release();
        // a record that is most of its buffer is kept as it is
        ByteBuf whole = record(1000);
        TestLinks.receive(link, new Frame.Data(CHANNEL, whole));
        assertEquals(1, whole.refCnt(), "held by the spool, not copied");
        TestLinks.receive(link, new Frame.Close(CHANNEL, ErrorCode.NONE)); // releases the spool
        assertEquals(0, whole.refCnt());
    }

    @Test
    void aFullSpoolDropsAndCountsRecordsButStillReturnsCredit() {
        open(4096);
        List<ByteBuf> records = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ByteBuf r = record(1000);
            records.add(r);
            TestLinks.receive(link, new Frame.Data(CHANNEL, r));
        }
        assertEquals(4000, stats.pushSpoolBytes());
        assertEquals(2, stats.pushOverflows());
        assertEquals(0, records.get(4).refCnt(), "a dropped record is released");
        assertEquals(0, records.get(5).refCnt());
    }

    @Test
    void bytesCreditedBackMayBeSentAgain() {
        open(1 << 20);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 4; i++) {
                TestLinks.receive(link, new Frame.Data(CHANNEL, record(WINDOW / 4)));
            }
            assertEquals(4, drainWindows(), "each quarter window is credited back at once");
            assertTrue(linkCh.isOpen(), "three windows' worth in all, never more than one outstanding");
        }
        assertEquals(3L * WINDOW, stats.pushSpoolBytes());
    }

    @Test
    void aPeerThatIgnoresTheWindowClosesTheLink() {
        open(1 << 20);
        ByteBuf tooMuch = record(WINDOW + 1);
        TestLinks.receive(link, new Frame.Data(CHANNEL, tooMuch));
        assertEquals(0, tooMuch.refCnt());
        Frame.GoAway away = assertInstanceOf(Frame.GoAway.class, linkCh.readOutbound());
        assertEquals(ErrorCode.PROTOCOL, away.code());
        assertFalse(linkCh.isOpen());
        assertEquals(0, stats.pushSpoolBytes(), "the link's end released the spool");
    }

    @Test
    void closingTheChannelReleasesTheSpool() {
        open(1 << 20);
        ByteBuf r = record(100);
        TestLinks.receive(link, new Frame.Data(CHANNEL, r));
        assertEquals(100, stats.pushSpoolBytes());
        TestLinks.receive(link, new Frame.Close(CHANNEL, ErrorCode.NONE));
        assertEquals(0, r.refCnt());
        assertEquals(0, stats.pushSpoolBytes());
        assertEquals(0, stats.pushSpoolRecords());
        assertEquals(0, stats.channelsOpen());
    }

    private int drainWindows() {
        int n = 0;
        Object o;
        while ((o = linkCh.readOutbound()) != null) {
            assertInstanceOf(Frame.Window.class, o);
            n++;
        }
        return n;
    }

    private static ByteBuf record(int n) {
        byte[] b = new byte[n];
        b[n - 1] = '\n';
        return Unpooled.wrappedBuffer(b);
    }
}
