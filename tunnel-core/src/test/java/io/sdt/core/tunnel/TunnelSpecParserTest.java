package io.sdt.core.tunnel;

import io.sdt.codec.HostPort;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TunnelSpecParserTest {

    @Test
    void parsesTheSshForms() {
        TunnelSpec s = TunnelSpecParser.parse(Direction.LOCAL, "8080:db.internal:5432");
        assertEquals(new HostPort("127.0.0.1", 8080), s.bind());
        assertEquals(new HostPort("db.internal", 5432), s.target());
        assertFalse(s.udp());
        assertEquals(0, s.maxChannels());

        TunnelSpec b = TunnelSpecParser.parse(Direction.REMOTE, "0.0.0.0:9000:127.0.0.1:22/tcp,max=10");
        assertEquals(new HostPort("0.0.0.0", 9000), b.bind());
        assertEquals(10, b.maxChannels());
        assertEquals("R:0.0.0.0:9000:127.0.0.1:22/tcp,max=10", b.label());

        TunnelSpec v6 = TunnelSpecParser.parse(Direction.LOCAL, "[::1]:0:[fd00::5]:443");
        assertEquals(new HostPort("::1", 0), v6.bind());
        assertEquals(new HostPort("fd00::5", 443), v6.target());

        assertEquals("0.0.0.0", TunnelSpecParser.parse(Direction.LOCAL, "*:1:h:2").bind().host());
        assertEquals("127.0.0.1", TunnelSpecParser.parse(Direction.LOCAL, "localhost:1:h:2").bind().host());

        TunnelSpec udp = TunnelSpecParser.parse(Direction.LOCAL, "5353:127.0.0.1:53/udp,idle=30s,max=100");
        assertTrue(udp.udp());
        assertEquals(30, udp.idle().toSeconds());
        assertEquals(100, udp.udpTableCap());
        TunnelSpec direct = TunnelSpecParser.parse(Direction.LOCAL, "5353:127.0.0.1:53/udp,peer=10.0.0.5:*,push");
        assertTrue(direct.push());
        assertEquals(new HostPort("10.0.0.5", 0), direct.peer());
        assertTrue(PeerFilter.of(direct.peer()).admits(new java.net.InetSocketAddress("10.0.0.5", 999)));
        assertFalse(PeerFilter.of(direct.peer()).admits(new java.net.InetSocketAddress("10.0.0.6", 999)));
        TunnelSpec exact = TunnelSpecParser.parse(Direction.LOCAL, "80:h:80,peer=[::1]:4000");
        assertTrue(PeerFilter.of(exact.peer()).admits(new java.net.InetSocketAddress("::1", 4000)));
        assertFalse(PeerFilter.of(exact.peer()).admits(new java.net.InetSocketAddress("::1", 4001)));
        TunnelSpec logs = TunnelSpecParser.parse(Direction.LOCAL, "514:logs.internal:514,push,record=16k,spool=128m");
        assertTrue(logs.push());
        assertEquals(16 * 1024, logs.recordMax());
        assertEquals(128 << 20, logs.spoolMax());
        assertThrows(SpecException.class, () -> TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push,spool=256m"),
                "a spool travels in a 28-bit varint");
        TunnelSpec udpDefaults = TunnelSpecParser.parse(Direction.REMOTE, "5353:127.0.0.1:53/udp");
        assertEquals(TunnelSpec.DEFAULT_UDP_IDLE, udpDefaults.idle());
        assertEquals(TunnelSpec.DEFAULT_UDP_MAX, udpDefaults.udpTableCap());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                        | empty spec",
            "8080                      | missing target",
            "8080:host                 | expected [BIND_ADDR:]PORT:HOST:HOSTPORT",
            "a:b:c:d:e                 | expected [BIND_ADDR:]PORT:HOST:HOSTPORT",
            "x:host:80                 | port 'x' is not a number",
            "70000:host:80             | out of range",
            "80:host:0                 | target port 0 is out of range",
            "80::80                    | empty target host",
            "80:host:80/sctp           | unknown protocol '/sctp'",
            "80:host:80,color=red      | unknown option 'color'",
            "80:host:80,max=0          | max 0 is out of range",
            "80:host:80,max=abc        | max 'abc' is not a number",
            "80:host:80,max            | option max= needs a value",
            "80:host:80,push=1         | option push takes no value",
            "80:host:80,               | empty option",
            "[::1:80:host:80           | unclosed '['",
            "80:[fd00::1]x:80          | expected ':' after ']'",
            "80:host:80,idle=soon      | bad duration 'soon'",
            "80:host:80,idle=5s        | idle= applies to /udp tunnels only",
            "80:host:80,record=1k      | record= and spool= apply to TCP push tunnels only",
            "80:host:80/udp,push,spool=1m | record= and spool= apply to TCP push tunnels only",
            "80:host:80,push,record=1m | record=1m is out of range 16..65536 bytes",
            "80:host:80,push,spool=lots | spool=lots is not a size",
            "80:host:80,peer=a.b:5     | peer must be an IP address",
            "80:host:80,peer=1.2.3.4:0 | peer port 0 is out of range",
            "80:host:80,peer=nope      | peer must be IP:PORT or IP:*",
            "80:host:80,spool-dir=/s   | spool-dir= applies to TCP push tunnels only",
            "80:host:80/udp,push,spool-dir=/s | spool-dir= applies to TCP push tunnels only",
            "80:host:80,push,spool-dir= | option spool-dir= needs a value",
            "80:host:80,push,fsync=always | fsync=, overflow= and spool-max= go with spool-dir=DIR",
            "80:host:80,push,spool-dir=/s,fsync=sometimes | fsync=sometimes: expected always, interval or never",
            "80:host:80,push,spool-dir=/s,overflow=maybe | overflow=maybe: expected block or drop",
            "80:host:80,push,spool-dir=/s,spool-max=1k | spool-max=1k is out of range",
            "80:host:80,relp=out       | relp applies to TCP push tunnels only",
            "80:host:80/udp,push,relp=out | relp applies to TCP push tunnels only",
            "80:host:80,push,relp=sideways | relp=sideways: expected in, out or both",
            "80:host:80,push,relp      | needs spool-dir=DIR; use relp=out",
            "80:host:80,push,relp=in   | needs spool-dir=DIR; use relp=out",
            "80:host:80,push,relp,spool-dir=/s,overflow=drop | relp (or relp=in) with overflow=drop",
    })
    void rejectsBadSpecsNamingTheProblem(String spec, String expected) {
        SpecException e = assertThrows(SpecException.class, () -> TunnelSpecParser.parse(Direction.LOCAL, spec));
        assertTrue(e.getMessage().startsWith("-L"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void aDurablePushSpoolAndItsDefaults() {
        TunnelSpec d = TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push,spool-dir=/var/spool/sdt");
        assertEquals(java.nio.file.Path.of("/var/spool/sdt"), d.durable().dir());
        assertEquals("interval", d.durable().fsync());
        assertEquals(false, d.durable().drop());
        assertEquals(1L << 30, d.durable().maxBytes());
        TunnelSpec e = TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push,spool-dir=s,fsync=never,overflow=drop,spool-max=64m");
        assertEquals("never", e.durable().fsync());
        assertEquals(true, e.durable().drop());
        assertEquals(64L << 20, e.durable().maxBytes());
        assertEquals(null, TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push").durable());
        SpecException remote = assertThrows(SpecException.class,
                () -> TunnelSpecParser.parse(Direction.REMOTE, "1:h:2,push,spool-dir=/s"));
        assertTrue(remote.getMessage().contains("applies to -L push tunnels"), remote.getMessage());
    }

    @Test
    void relpNamesTheEndsThatSpeakIt() {
        TunnelSpec both = TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push,relp,spool-dir=/s");
        assertEquals(TunnelSpec.Relp.BOTH, both.relp());
        assertTrue(both.relp().in() && both.relp().out());
        assertEquals(TunnelSpec.RECORD_LIMIT, both.recordMax(), "room for rsyslog's messages by default");
        TunnelSpec out = TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push,relp=out");
        assertEquals(TunnelSpec.Relp.OUT, out.relp());
        assertEquals(TunnelSpec.DEFAULT_RECORD_MAX, out.recordMax(), "its producers write lines");
        assertEquals(TunnelSpec.Relp.IN, TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push,relp=in,spool-dir=s,record=16k")
                .relp());
        assertEquals(TunnelSpec.Relp.NONE, TunnelSpecParser.parse(Direction.LOCAL, "1:h:2,push").relp());
        SpecException remote = assertThrows(SpecException.class,
                () -> TunnelSpecParser.parse(Direction.REMOTE, "1:h:2,push,relp=out"));
        assertTrue(remote.getMessage().contains("relp applies to -L push tunnels"), remote.getMessage());
    }

    @Test
    void reverseDynamicListensWithoutATarget() {
        TunnelSpec r = TunnelSpecParser.parse(Direction.REMOTE, "1080");
        assertTrue(r.dynamic());
        assertEquals(new HostPort("127.0.0.1", 1080), r.bind());
        TunnelSpec all = TunnelSpecParser.parse(Direction.REMOTE, "*:1080,max=7");
        assertEquals(new HostPort("0.0.0.0", 1080), all.bind());
        assertEquals(7, all.maxChannels());
        for (String bad : new String[] {"1080/udp", "1080,push", "1080,peer=1.2.3.4:5", "1080,idle=5s"}) {
            SpecException e = assertThrows(SpecException.class, () -> TunnelSpecParser.parse(Direction.REMOTE, bad));
            assertTrue(e.getMessage().startsWith("-R " + bad + ": "), e.getMessage());
        }
    }

    @Test
    void dynamicListener() {
        TunnelSpec d = TunnelSpecParser.parseDynamic("1080");
        assertTrue(d.dynamic());
        assertEquals(Direction.LOCAL, d.direction());
        assertEquals(new HostPort("127.0.0.1", 1080), d.bind());
        TunnelSpec v6 = TunnelSpecParser.parseDynamic("[::1]:0,max=3");
        assertEquals(new HostPort("::1", 0), v6.bind());
        assertEquals(3, v6.maxChannels());
        assertFalse(v6.optimistic());
        TunnelSpec optimistic = TunnelSpecParser.parseDynamic("0.0.0.0:1080,optimistic,max=5");
        assertTrue(optimistic.optimistic());
        assertEquals(5, optimistic.maxChannels());
        assertEquals("0.0.0.0:1080,optimistic,max=5", optimistic.text());
        for (String[] bad : new String[][] {{"", "empty spec"}, {"a:b:c", "expected [BIND_ADDR:]PORT"},
                {"99999", "port"}, {"1080,idle=5s", "unknown option 'idle'"}, {"1080,max=0", "max"},
                {"1080,max", "max"}, {"1080,optimistic=yes", "option optimistic takes no value"}}) {
            SpecException e = assertThrows(SpecException.class, () -> TunnelSpecParser.parseDynamic(bad[0]));
            assertTrue(e.getMessage().startsWith("-D"), e.getMessage());
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
        SpecException e = assertThrows(SpecException.class, () -> TunnelSpecParser.parse(Direction.LOCAL, "1080"));
        assertTrue(e.getMessage().contains("use -D"), e.getMessage());
        // only a local dynamic listener can answer before the far node has: a forward has nobody to tell
        SpecException forward = assertThrows(SpecException.class,
                () -> TunnelSpecParser.parse(Direction.LOCAL, "8080:web:80,optimistic"));
        assertTrue(forward.getMessage().contains("optimistic"), forward.getMessage());
        SpecException reverseForward = assertThrows(SpecException.class,
                () -> TunnelSpecParser.parse(Direction.REMOTE, "8080:web:80,optimistic"));
        assertTrue(reverseForward.getMessage().contains("optimistic applies to a dynamic listener only"),
                reverseForward.getMessage());
        TunnelSpec reverse = TunnelSpecParser.parse(Direction.REMOTE, "1080,optimistic");
        assertTrue(reverse.dynamic() && reverse.optimistic(), "a reverse dynamic listener may be optimistic");
        assertFalse(TunnelSpecParser.parse(Direction.REMOTE, "1080").optimistic());
    }

    @Test
    void durations() {
        assertEquals(30, TunnelSpecParser.parseDuration("", "30s").toSeconds());
        assertEquals(300, TunnelSpecParser.parseDuration("", "5m").toSeconds());
        assertEquals(500, TunnelSpecParser.parseDuration("", "500ms").toMillis());
        assertEquals(7, TunnelSpecParser.parseDuration("", "7").toSeconds());
        assertThrows(SpecException.class, () -> TunnelSpecParser.parseDuration("", "0s"));
        assertThrows(SpecException.class, () -> TunnelSpecParser.parseDuration("", "-1s"));
    }
}
