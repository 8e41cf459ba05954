package io.sdt.server;

import io.sdt.core.link.Token;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The real {@code sdt server} and {@code sdt client} processes, driven as the README says. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliProcessIT {

    @TempDir
    Path dir;
    private final SdtProcesses processes = new SdtProcesses();

    private SdtProcesses.Node sdt(String... args) throws Exception {
        return processes.start(args);
    }

    @AfterEach
    void stopEverythingWeStarted() throws Exception {
        processes.close();
    }

    private static void roundTrip(int port, int seed) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(20_000);
            byte[] sent = Payloads.write(s.getOutputStream(), 1 << 20, seed);
            s.shutdownOutput();
            long[] n = new long[1];
            assertArrayEquals(sent, Payloads.readAll(s.getInputStream(), n));
            assertEquals(1 << 20, n[0]);
        }
    }

    @Test
    void serverAndClientForwardBothWaysAndExitZeroOnSigterm() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate() + "\n");
        try (Targets echo = Targets.echo()) {
            SdtProcesses.Node server = sdt("server", "--listen", "127.0.0.1:0", "--token-file", token.toString(),
                    "--allow-target", "127.0.0.1:" + echo.port(), "--allow-bind", "127.0.0.1:*");
            String serverPort = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            String l = "127.0.0.1:0:127.0.0.1:" + echo.port();
            SdtProcesses.Node client = sdt("client", "--server", "127.0.0.1:" + serverPort, "--token-file", token.toString(),
                    "-L", l, "-R", l);
            int local = Integer.parseInt(client.await("tunnel " + Pattern.quote(l) + " listening on 127\\.0\\.0\\.1:(\\d+)"));
            int remote = Integer.parseInt(client.await("tunnel R:" + Pattern.quote(l) + " listening on 127\\.0\\.0\\.1:(\\d+)"));
            roundTrip(local, 1);
            roundTrip(remote, 2);

            client.process().toHandle().destroy(); // SIGTERM only; Process.destroy() also closes our end of its pipes
            assertTrue(client.process().waitFor(20, TimeUnit.SECONDS), "client exits on SIGTERM");
            assertEquals(0, client.process().exitValue(), client.all().toString());
            server.await("link closed");
            server.process().toHandle().destroy();
            assertTrue(server.process().waitFor(20, TimeUnit.SECONDS), "server exits on SIGTERM");
            assertEquals(0, server.process().exitValue(), server.all().toString());
            String log = server.output();
            assertTrue(log.contains("SIGTERM received; shutting down"), log);
        }
    }

    @Test
    void wrongTokenFailsTheClientWithAClearErrorAndTheServerLogsIt() throws Exception {
        Path good = Files.writeString(dir.resolve("good"), Token.generate());
        Path bad = Files.writeString(dir.resolve("bad"), Token.generate());
        SdtProcesses.Node server = sdt("server", "--listen", "127.0.0.1:0", "--token-file", good.toString(), "--allow-bind", "*");
        String port = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
        SdtProcesses.Node client = sdt("client", "--server", "127.0.0.1:" + port, "--token-file", bad.toString(),
                "-R", "127.0.0.1:0:127.0.0.1:9");
        assertTrue(client.process().waitFor(30, TimeUnit.SECONDS), "client gives up");
        assertEquals(1, client.process().exitValue());
        client.await("authentication with 127\\.0\\.0\\.1:\\d+ failed");
        server.await("authentication of /127\\.0\\.0\\.1:\\d+ failed");
        String log = client.output();
        assertTrue(!log.contains("listening on"), log);
        server.process().toHandle().destroy();
        assertTrue(server.process().waitFor(20, TimeUnit.SECONDS));
    }
}
