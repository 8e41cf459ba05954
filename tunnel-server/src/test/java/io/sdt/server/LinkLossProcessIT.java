package io.sdt.server;

import io.sdt.core.link.Token;
import io.sdt.core.testing.Targets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a customer and a client see when the sdt server process dies (SIGKILL) and comes back. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LinkLossProcessIT {

    @TempDir
    Path dir;
    private final SdtProcesses processes = new SdtProcesses();

    @AfterEach
    void stopEverythingWeStarted() throws Exception {
        processes.close();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private SdtProcesses.Node server(Path token, int port, int target) throws Exception {
        SdtProcesses.Node server = processes.start("server", "--listen", "127.0.0.1:" + port,
                "--token-file", token.toString(), "--allow-target", "127.0.0.1:" + target);
        server.await("server listening on 127\\.0\\.0\\.1:" + port);
        return server;
    }

    private static void sigkill(SdtProcesses.Node node) throws Exception {
        node.process().destroyForcibly(); // SIGKILL: no GOAWAY, no drain; the kernel closes its sockets
        assertTrue(node.process().waitFor(10, TimeUnit.SECONDS));
    }

    @Test
    void aServerKilledMidTransferIsAResetAtTheCustomerNotAnEnd() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        CountDownLatch stop = new CountDownLatch(1);
        try (Targets target = Targets.streaming(stop)) {
            int port = freePort();
            SdtProcesses.Node server = server(token, port, target.port());
            String l = "127.0.0.1:0:127.0.0.1:" + target.port();
            SdtProcesses.Node client = processes.start("client", "--server", "127.0.0.1:" + port,
                    "--token-file", token.toString(), "-L", l);
            int local = Integer.parseInt(client.await("tunnel " + Pattern.quote(l) + " listening on 127\\.0\\.0\\.1:(\\d+)"));
            client.seen("link up to 127\\.0\\.0\\.1:" + port);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", local), 5000);
                s.setSoTimeout(20_000);
                InputStream in = s.getInputStream();
                assertEquals(256 * 1024, in.readNBytes(256 * 1024).length, () -> "transfer under way; client:\n"
                        + client.soFar() + "server:\n" + server.soFar());
                sigkill(server);
                SocketException e = assertThrows(SocketException.class, () -> {
                    byte[] buf = new byte[64 * 1024];
                    while (in.read(buf) >= 0) {
                        // what was in flight still arrives; the end must be a reset
                    }
                }, "a stream cut off by a dead server must not look complete");
                assertTrue(e.getMessage().toLowerCase().contains("reset"), e.getMessage());
            } finally {
                stop.countDown();
            }
            client.await("link to 127\\.0\\.0\\.1:" + port + " lost");
        }
    }

    /**
     * The client keeps dialing at most a second apart while the server is away (the attempt log says
     * so), so it is linked again within about a second of the server listening: a restart costs the
     * outage plus at most one retry interval, not a grown exponential backoff.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 20})
    void aRestartedServerHasItsClientBackWithinASecondOfListening(int downSeconds) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        int port = freePort();
        int target = freePort();
        SdtProcesses.Node first = server(token, port, target);
        SdtProcesses.Node client = processes.start("client", "--server", "127.0.0.1:" + port,
                "--token-file", token.toString(), "-L", "127.0.0.1:0:127.0.0.1:" + target);
        client.await("link up to 127\\.0\\.0\\.1:" + port);
        sigkill(first);
        client.await("link to 127\\.0\\.0\\.1:" + port + " lost");
        Thread.sleep(TimeUnit.SECONDS.toMillis(downSeconds));
        server(token, port, target);
        client.await("link up to 127\\.0\\.0\\.1:" + port);

        Matcher m = Pattern.compile("reconnecting in (\\d+) ms \\(attempt (\\d+)\\)").matcher(client.soFar());
        List<Long> delays = new ArrayList<>();
        while (m.find()) {
            delays.add(Long.parseLong(m.group(1)));
        }
        assertTrue(delays.size() >= downSeconds, "a retry at least every second while down: " + delays);
        assertTrue(delays.stream().allMatch(d -> d <= 1000), "no retry more than 1 s after the last: " + delays);
    }
}
