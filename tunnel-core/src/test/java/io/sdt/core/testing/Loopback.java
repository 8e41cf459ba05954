package io.sdt.core.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Small things tests that start real processes on loopback need: a free port, a probe, an echo round trip. */
public final class Loopback {

    private Loopback() {
    }

    /** A port that was free a moment ago, for programs that need one in their configuration. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Whether something accepts connections on 127.0.0.1:{@code port} now. */
    public static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes {@code size} seeded bytes to {@code at}, half-closes, and asserts the same bytes come back (an echo
     * target behind a tunnel).
     */
    public static void echo(InetSocketAddress at, long size, long seed) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(20_000);
            byte[] sent = Payloads.write(s.getOutputStream(), size, seed);
            s.shutdownOutput();
            assertArrayEquals(sent, Payloads.readAll(s.getInputStream(), new long[1]));
        }
    }

    /** A file's text, or "" while it does not exist (a log a process has yet to write). */
    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
