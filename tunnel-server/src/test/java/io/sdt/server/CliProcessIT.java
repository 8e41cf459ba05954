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

/** The real {@code sdt server} and {@code sdt client} processes, driven as DESIGN.md §4 says. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliProcessIT {

    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    /** A started sdt process with its stderr lines queued. */
    record Node(Process process, BlockingQueue<String> lines, StringBuilder all, Thread reader) {
        /** All of stderr, once the process has exited and its stream is drained. */
        String output() throws InterruptedException {
            reader.join(10_000);
            synchronized (all) {
                return all.toString();
            }
        }

        /** Waits for a stderr line matching {@code regex}; returns its first group. */
        String await(String regex) throws InterruptedException {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line == null) {
                    if (!process.isAlive() && lines.isEmpty()) {
                        break;
                    }
                    continue;
                }
                Matcher m = p.matcher(line);
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : line;
                }
            }
            fail("no line matching " + regex + " in:\n" + all);
            return null;
        }
    }

    private Node sdt(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("SDT_TOKEN");
        pb.environment().put("SDT_LOG_LEVEL", "info");
        Process p = pb.start();
        started.add(p);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder all = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (all) {
                        all.append(l).append('\n');
                    }
                    lines.add(l);
                }
            } catch (Exception ignored) {
                // process ended
            }
        });
        return new Node(p, lines, all, reader);
    }

    @AfterEach
    void stopEverythingWeStarted() throws Exception {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
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
            Node server = sdt("server", "--listen", "127.0.0.1:0", "--token-file", token.toString(),
                    "--allow-target", "127.0.0.1:" + echo.port(), "--allow-bind", "127.0.0.1:*");
            String serverPort = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            String l = "127.0.0.1:0:127.0.0.1:" + echo.port();
            Node client = sdt("client", "--server", "127.0.0.1:" + serverPort, "--token-file", token.toString(),
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
        Node server = sdt("server", "--listen", "127.0.0.1:0", "--token-file", good.toString(), "--allow-bind", "*");
        String port = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
        Node client = sdt("client", "--server", "127.0.0.1:" + port, "--token-file", bad.toString(),
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
