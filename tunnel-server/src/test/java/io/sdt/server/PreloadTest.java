package io.sdt.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreloadTest {

    private static String[] args(String line) {
        return line.isEmpty() ? new String[0] : line.split(" ");
    }

    @Test
    void onlyANodeThatWillRunIsPreparedFor() {
        for (String line : new String[] {"server --listen 7000", "client --server h:1 -L 1:h:2", "run x.yaml", "demo"}) {
            assertTrue(Preload.preloads(args(line)), line);
        }
        for (String line : new String[] {"", "token", "udp-encap-tun --help", "help server", "--version",
                "server --help", "client -h", "server -V", "client --print-config", "run x.yaml --check"}) {
            assertFalse(Preload.preloads(args(line)), line);
        }
    }

    @Test
    void aKeyPairOnlyForAServerThatMakesItsOwnCertificate() {
        assertTrue(Preload.makesKeyPair(args("server --listen 7000")));
        assertTrue(Preload.makesKeyPair(args("demo")));
        assertFalse(Preload.makesKeyPair(args("server --listen 7000 --cert c.pem --key k.pem")));
        assertFalse(Preload.makesKeyPair(args("server --listen 7000 --cert=c.pem --key=k.pem")));
        assertFalse(Preload.makesKeyPair(args("client --server h:1 -L 1:h:2")));
        assertFalse(Preload.makesKeyPair(args("run server.yaml")));
        assertFalse(Preload.makesKeyPair(args("server --help")));
    }
}
