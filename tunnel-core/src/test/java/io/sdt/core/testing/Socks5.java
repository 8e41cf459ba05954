package io.sdt.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A SOCKS5 customer written out by hand (RFC 1928), for tests that need its bytes exactly. */
public final class Socks5 {

    private Socks5() {
    }

    /** Greets without authentication and sends a request; returns the reply's REP byte (its BND is read). */
    public static int request(Socket s, int command, InetSocketAddress target) throws IOException {
        OutputStream out = s.getOutputStream();
        DataInputStream in = new DataInputStream(s.getInputStream());
        out.write(new byte[] {5, 1, 0});
        byte[] method = new byte[2];
        in.readFully(method);
        assertArrayEquals(new byte[] {5, 0}, method);
        byte[] ip = target.getAddress().getAddress();
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.write(new byte[] {5, (byte) command, 0, (byte) (ip.length == 4 ? 1 : 4)});
        req.write(ip);
        req.write(target.getPort() >> 8);
        req.write(target.getPort());
        out.write(req.toByteArray());
        byte[] head = new byte[4];
        in.readFully(head);
        assertEquals(5, head[0]);
        in.readFully(new byte[(head[3] == 1 ? 4 : 16) + 2]);
        return head[1];
    }

    /** {@link #request} with CONNECT (command 1). */
    public static int connect(Socket s, InetSocketAddress target) throws IOException {
        return request(s, 1, target);
    }
}
