package io.sdt.core.tunnel.push.relp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RELP framing, and both sides of a session, against the byte strings librelp sends and expects. */
class RelpTest {

    private static final String LIBRELP_OPEN =
            "relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog";

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static String frame(int txnr, String command, String data) {
        byte[] d = data.getBytes(StandardCharsets.UTF_8);
        return txnr + " " + command + " " + d.length + (d.length > 0 ? " " + data : "") + "\n";
    }

    /** Everything the channel wrote, as text. */
    private static String written(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    // ---- the server side, as a push ingress runs it for omrelp ----

    private final List<String> records = new ArrayList<>();
    private final List<String> broken = new ArrayList<>();
    private long tickets;

    private EmbeddedChannel server() {
        return new EmbeddedChannel(new RelpDecoder(100), new RelpServer(r -> {
            records.add(r.toString(StandardCharsets.UTF_8));
            r.release();
            return ++tickets;
        }, (ctx, why) -> broken.add(why)));
    }

    @Test
    void messagesAreAnsweredOnlyOnceTheyAreSafeAndInOrder() {
        EmbeddedChannel ch = server();
        ch.writeInbound(bytes(frame(1, "open", LIBRELP_OPEN)));
        assertEquals(frame(1, "rsp", "200 OK\nrelp_version=0\nrelp_software=sdt\ncommands=syslog"), written(ch));
        ch.writeInbound(bytes(frame(2, "syslog", "<13>one") + frame(3, "syslog", "<13>two")));
        assertEquals(List.of("<13>one\n", "<13>two\n"), records, "each message is a record with a newline");
        assertEquals("", written(ch), "nothing is answered before the spool has it");
        RelpServer relp = ch.pipeline().get(RelpServer.class);
        relp.settled(1);
        assertEquals(frame(2, "rsp", "200 OK"), written(ch));
        ch.writeInbound(bytes(frame(4, "close", "")));
        assertEquals("", written(ch), "close waits for the messages before it");
        assertTrue(ch.isActive());
        relp.settled(2);
        assertEquals(frame(3, "rsp", "200 OK") + frame(4, "rsp", "200 OK"), written(ch));
        assertFalse(ch.isActive(), "the session ends after the answer to close");
        assertEquals(List.of(), broken);
    }

    @Test
    void anUnknownCommandIsRefusedAndTheSessionGoesOn() {
        EmbeddedChannel ch = server();
        ch.writeInbound(bytes(frame(1, "open", LIBRELP_OPEN) + frame(2, "starttls", "")));
        assertEquals(frame(1, "rsp", "200 OK\nrelp_version=0\nrelp_software=sdt\ncommands=syslog")
                + frame(2, "rsp", "500 command starttls not supported"), written(ch));
        ch.writeInbound(bytes(frame(3, "syslog", "x")));
        assertEquals(List.of("x\n"), records);
        assertTrue(ch.isActive());
        ch.finishAndReleaseAll();
    }

    @Test
    void anOpenWithoutSyslogIsRefusedAndClosed() {
        EmbeddedChannel ch = server();
        ch.writeInbound(bytes(frame(1, "open", "relp_version=0\ncommands=eventlog")));
        assertEquals(frame(1, "rsp", "500 the syslog command is not offered"), written(ch));
        assertFalse(ch.isActive());
        assertEquals(List.of("open refused: the syslog command is not offered"), broken);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "1 syslog 1 x\n",                                          // a message before open
        "1 open 14 relp_version=0\n1 open 14 relp_version=0\n",    // a transaction number repeated
        "2 open 14 relp_version=0\n",                              // not starting at 1
        "x open 0\n",                                              // transaction number not a number
        "1234567890 open 0\n",                                     // ten digits
        "1 op3n 0\n",                                              // a command with a digit
        "1 openopenopenopenopenopenopenopeno 0\n",                 // 33 letters
        "1 open 1x\n",                                             // a length that is not a number
        "1 open 0 \n",                                             // no data, yet a separator
        "1 open 3 abcd\n",                                         // the data runs past its length
        "1 open 101 ",                                             // more than the limit of 100
        "1 open -1\n",                                             // a negative length
        "\n",                                                      // an empty line
    })
    void aMalformedFrameEndsTheSessionWithoutAnswerAndWithoutARecord(String input) {
        EmbeddedChannel ch = server();
        ch.writeInbound(bytes(input));
        assertFalse(ch.isActive(), "closed on " + input);
        assertEquals(List.of(), records);
        assertEquals(1, broken.size(), broken.toString());
        ch.finishAndReleaseAll();
    }

    @Test
    void aSecondOpenIsAProtocolError() {
        EmbeddedChannel ch = server();
        ch.writeInbound(bytes(frame(1, "open", LIBRELP_OPEN) + frame(2, "open", LIBRELP_OPEN)));
        assertTrue(written(ch).endsWith(frame(2, "rsp", "500 protocol error: connection already open")));
        assertFalse(ch.isActive());
    }

    @Test
    void framesSplitAnywhereDecodeTheSame() {
        String all = frame(1, "open", LIBRELP_OPEN) + frame(2, "syslog", "héllo wörld") + frame(3, "syslog", "");
        EmbeddedChannel ch = server();
        for (byte b : all.getBytes(StandardCharsets.UTF_8)) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertEquals(List.of("héllo wörld\n", "\n"), records);
        assertTrue(ch.isActive());
        ch.finishAndReleaseAll();
    }

    @Test
    void transactionNumbersWrapToOne() {
        assertEquals(2, RelpFrame.next(1));
        assertEquals(1, RelpFrame.next(RelpFrame.MAX_TXNR));
    }

    // ---- the client side, as a push egress runs it towards imrelp ----

    private final List<String> events = new ArrayList<>();

    private EmbeddedChannel client() {
        return new EmbeddedChannel(new RelpDecoder(RelpClient.MAX_ANSWER), new RelpClient(new RelpClient.Events() {
            @Override
            public void ready() {
                events.add("ready");
            }

            @Override
            public void delivered() {
                events.add("delivered");
            }

            @Override
            public void broken(String why) {
                events.add("broken: " + why);
            }
        }));
    }

    private static final String IMRELP_OPEN_ANSWER =
            "200 OK\nrelp_version=0\nrelp_software=http://librelp.adiscon.com,1.11.0,librelp\ncommands=syslog";

    @Test
    void theClientOpensSendsWithoutTheNewlineAndCountsAnswers() {
        EmbeddedChannel ch = client();
        RelpClient relp = ch.pipeline().get(RelpClient.class);
        assertEquals(frame(1, "open", "relp_version=0\nrelp_software=sdt\ncommands=syslog"), written(ch));
        assertFalse(relp.canSend(), "not before the server answered open");
        ch.writeInbound(bytes(frame(1, "rsp", IMRELP_OPEN_ANSWER)));
        assertEquals(List.of("ready"), events);
        relp.send(bytes("<13>one\n"));
        relp.send(bytes("<13>two"));
        ch.flush();
        assertEquals(frame(2, "syslog", "<13>one") + frame(3, "syslog", "<13>two"), written(ch));
        ch.writeInbound(bytes(frame(2, "rsp", "200 OK") + frame(3, "rsp", "200 OK")));
        assertEquals(List.of("ready", "delivered", "delivered"), events);
        assertTrue(ch.isActive());
        ch.finishAndReleaseAll();
    }

    @Test
    void theWindowBoundsUnansweredRecords() {
        EmbeddedChannel ch = client();
        RelpClient relp = ch.pipeline().get(RelpClient.class);
        ch.writeInbound(bytes(frame(1, "rsp", IMRELP_OPEN_ANSWER)));
        int sent = 0;
        while (relp.canSend() && sent < 1000) {
            relp.send(bytes("r"));
            sent++;
        }
        assertEquals(RelpClient.WINDOW, sent);
        ch.writeInbound(bytes(frame(2, "rsp", "200 OK")));
        assertTrue(relp.canSend());
        ch.finishAndReleaseAll();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "1 rsp 27 500 required command missing\n",          // the session refused
        "1 rsp 14 200 OK\ncommands\n",                       // no relp_version
        "2 rsp 6 200 OK\n",                                  // an answer to a command never sent
        "0 serverclose 0\n",                                 // the server is going away
        "1 syslog 1 x\n",                                    // a command from the server
        "1 rsp x\n",                                         // broken framing
    })
    void anythingButAGoodAnswerEndsTheClientSession(String input) {
        EmbeddedChannel ch = client();
        ch.writeInbound(bytes(input));
        assertEquals(1, events.size(), events.toString());
        assertTrue(events.getFirst().startsWith("broken: "), events.toString());
        assertFalse(ch.isActive());
        ch.finishAndReleaseAll();
    }

    @Test
    void anErrorAnswerToARecordEndsTheSession() {
        EmbeddedChannel ch = client();
        RelpClient relp = ch.pipeline().get(RelpClient.class);
        ch.writeInbound(bytes(frame(1, "rsp", IMRELP_OPEN_ANSWER)));
        relp.send(bytes("r\n"));
        ch.writeInbound(bytes(frame(2, "rsp", "500 queue full")));
        assertEquals(List.of("ready", "broken: the log server refused a record: 500 queue full"), events);
        assertFalse(ch.isActive());
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }
}
