package io.sdt.server;

import io.sdt.core.link.Token;
import io.sdt.core.testing.GatedTransfer;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sdt run CONFIG.yaml} as a real process: reload on file change and SIGHUP, rejection of an
 * invalid reload, the SIGTERM drain, and secrets kept out of logs and the admin endpoint.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RunProcessIT {

    private static final int HALF = 4 << 20;

    @TempDir
    Path dir;
    private final SdtProcesses processes = new SdtProcesses();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        processes.close();
    }

    private Future<Boolean> gatedTransfer(int port, long seed, CountDownLatch halfway, CountDownLatch gate) {
        return GatedTransfer.start(threads, new InetSocketAddress("127.0.0.1", port), HALF, seed, halfway, gate);
    }

    private static void roundTrip(int port, int seed) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(20_000);
            byte[] sent = Payloads.write(s.getOutputStream(), 64 * 1024, seed);
            s.shutdownOutput();
            long[] n = new long[1];
            assertArrayEquals(sent, Payloads.readAll(s.getInputStream(), n));
        }
    }

    private static boolean refuses(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static String get(int port, String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** Replaces {@code file} atomically, as editors and config management do. */
    private void replace(Path file, String text) throws IOException {
        Path tmp = Files.writeString(dir.resolve(file.getFileName() + ".tmp"), text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private SdtProcesses.Node server(Path token, int target) throws Exception {
        return processes.start("server", "--listen", "127.0.0.1:0", "--token-file", token.toString(),
                "--allow-target", "127.0.0.1:" + target, "--allow-bind", "127.0.0.1:*");
    }

    private static int listening(SdtProcesses.Node node, String label) throws InterruptedException {
        return Integer.parseInt(node.seen("tunnel " + Pattern.quote(label) + " listening on 127\\.0\\.0\\.1:(\\d+)"));
    }

    @Test
    void fileChangesAndSighupReloadTunnelsWithoutDroppingTheChannelsOfKeptOnes() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        try (Targets echo = Targets.echo()) {
            int p = echo.port();
            SdtProcesses.Node server = server(token, p);
            String serverPort = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            String head = """
                    node: client
                    link: {server: "127.0.0.1:%s", token_file: token}
                    admin: "127.0.0.1:0"
                    tunnels:
                    """.formatted(serverPort);
            String a = "  - {bind: \"127.0.0.1:0\", target: \"127.0.0.1:%d\"}\n".formatted(p);
            String c = "  - {bind: \"127.0.0.1:0\", target: \"127.0.0.1:%d\", max: 5}\n".formatted(p);
            String b = "  - {bind: \"127.0.0.1:0\", target: \"127.0.0.1:%d\", max: 9}\n".formatted(p);
            Path yaml = Files.writeString(dir.resolve("client.yaml"), head + a + c);
            SdtProcesses.Node client = processes.start("run", yaml.toString());
            int portA = listening(client, "127.0.0.1:0:127.0.0.1:" + p);
            int portC = listening(client, "127.0.0.1:0:127.0.0.1:" + p + ",max=5");
            int admin = Integer.parseInt(client.seen("admin listening on 127\\.0\\.0\\.1:(\\d+)"));
            client.seen("link up");

            CountDownLatch halfway = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Future<Boolean> transfer = gatedTransfer(portA, 1, halfway, done);
            assertTrue(halfway.await(30, TimeUnit.SECONDS), "the transfer through A is half way");

            // 1. the file changes: C goes, B comes; A and its channel stay
            replace(yaml, head + a + b);
            client.await("configuration reloaded from .*: 1 tunnels kept, 1 added, 1 removed");
            int portB = listening(client, "127.0.0.1:0:127.0.0.1:" + p + ",max=9");
            roundTrip(portB, 2);
            assertTrue(refuses(portC), "the removed tunnel no longer listens");

            // 2. an invalid file is rejected whole, on change and on SIGHUP; nothing changes
            String before = get(admin, "/tunnels");
            replace(yaml, head + a + "  - {bind: 1, target: \"127.0.0.1:1\", colour: red}\n");
            client.await("reload of .* rejected, the running configuration stays");
            client.await("tunnels\\[1\\]\\.colour: unknown key");
            client.signal("HUP");
            client.await("SIGHUP: reloading");
            client.await("reload of .* rejected");
            assertEquals(before.replaceAll("\"channelsOpened\":\\d+", ""),
                    get(admin, "/tunnels").replaceAll("\"channelsOpened\":\\d+", ""), "the running tunnels did not change");
            roundTrip(portB, 3);

            // 3. a change that needs a restart is rejected too
            replace(yaml, head.replace("127.0.0.1:" + serverPort, "127.0.0.2:" + serverPort) + a + b);
            client.await("link.server: changed; a running node cannot apply this, restart it");

            // 4. SIGHUP applies a valid file: B goes again
            replace(yaml, head + a);
            client.await("reloaded from .*: 1 tunnels kept, 0 added, 1 removed");
            client.signal("HUP");
            client.await("reloaded from .*: 1 tunnels kept, 0 added, 0 removed");
            assertTrue(refuses(portB));

            done.countDown();
            assertTrue(transfer.get(60, TimeUnit.SECONDS), "the transfer through A completed across all reloads");
            assertEquals(1, client.soFar().split("link up to ", -1).length - 1, "the link never dropped: " + client.soFar());
            client.signal("TERM");
            assertTrue(client.process().waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, client.process().exitValue(), client.output());
        }
    }

    @Test
    void sigtermOnTheClientLetsAnInFlightTransferFinishAndRefusesNewConnections() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        try (Targets echo = Targets.echo()) {
            SdtProcesses.Node server = server(token, echo.port());
            String serverPort = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            String spec = "127.0.0.1:0:127.0.0.1:" + echo.port();
            SdtProcesses.Node client = processes.start("client", "--server", "127.0.0.1:" + serverPort, "--token-file",
                    token.toString(), "-L", spec, "--drain-timeout", "60s");
            int port = listening(client, spec);
            client.seen("link up");
            CountDownLatch halfway = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            Future<Boolean> transfer = gatedTransfer(port, 4, halfway, gate);
            assertTrue(halfway.await(30, TimeUnit.SECONDS));

            client.signal("TERM");
            client.await("SIGTERM received; shutting down: draining open channels \\(up to 60000 ms\\)");
            client.await("draining: 1 channels open"); // logged once the listeners are closed
            assertTrue(refuses(port), "new connections are refused while draining");
            assertTrue(client.process().isAlive(), "the client waits for its open channel");
            long released = System.nanoTime();
            gate.countDown();
            assertTrue(transfer.get(60, TimeUnit.SECONDS), "the in-flight transfer completed");
            assertTrue(client.process().waitFor(30, TimeUnit.SECONDS), "the client exits once drained");
            assertTrue(System.nanoTime() - released < TimeUnit.SECONDS.toNanos(30), "well before the 60 s drain timeout");
            assertEquals(0, client.process().exitValue(), client.output());
            assertFalse(client.output().contains("drain timeout"), client.output());
        }
    }

    @Test
    void sigtermOnTheServerFinishesOpenChannelsRefusesNewOnesThenExitsAtTheTimeout() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        try (Targets echo = Targets.echo()) {
            Path yaml = Files.writeString(dir.resolve("server.yaml"), """
                    node: server
                    link: {listen: "127.0.0.1:0", token_file: token}
                    policy: {allow_target: ["127.0.0.1:%d"]}
                    shutdown: {drain_timeout: 3s}
                    """.formatted(echo.port()));
            SdtProcesses.Node server = processes.start("run", yaml.toString());
            String serverPort = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            String spec = "127.0.0.1:0:127.0.0.1:" + echo.port();
            SdtProcesses.Node client = processes.start("client", "--server", "127.0.0.1:" + serverPort, "--token-file",
                    token.toString(), "-L", spec);
            int port = listening(client, spec);
            client.seen("link up");
            CountDownLatch halfway = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            Future<Boolean> transfer = gatedTransfer(port, 5, halfway, gate);
            assertTrue(halfway.await(30, TimeUnit.SECONDS));

            server.signal("TERM");
            server.await("draining: 1 channels open");
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.setSoTimeout(10_000);
                assertEquals(-1, s.getInputStream().read(), "a new channel is refused while the server drains");
            }
            assertTrue(refuses(Integer.parseInt(serverPort)), "no new links while draining");
            gate.countDown();
            assertTrue(transfer.get(60, TimeUnit.SECONDS), "the in-flight transfer completed");
            assertTrue(server.process().waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, server.process().exitValue(), server.output());

            // a channel that never ends is closed at the drain timeout, and the exit is still clean
            SdtProcesses.Node second = processes.start("run", yaml.toString());
            String secondPort = second.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            SdtProcesses.Node client2 = processes.start("client", "--server", "127.0.0.1:" + secondPort, "--token-file",
                    token.toString(), "-L", spec);
            int port2 = listening(client2, spec);
            client2.seen("link up");
            try (Socket stuck = new Socket()) {
                stuck.connect(new InetSocketAddress("127.0.0.1", port2), 5000);
                stuck.getOutputStream().write(1);
                assertEquals(1, stuck.getInputStream().read(), "echo through the tunnel");
                second.signal("TERM");
                second.await("drain timeout: closing the channels still open");
                assertTrue(second.process().waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, second.process().exitValue(), second.output());
            }
        }
    }

    @Test
    void inlineSecretsAppearNeitherInLogsNorInTunnelsNorInPrintConfig() throws Exception {
        String token = Token.generate();
        String password = "pw-" + Token.generate().substring(0, 12);
        try (Targets echo = Targets.echo()) {
            Path serverYaml = Files.writeString(dir.resolve("server.yaml"), """
                    node: server
                    link: {listen: "127.0.0.1:0", token: "%s"}
                    policy: {allow_target: ["127.0.0.1:%d"]}
                    logging: {level: debug}
                    """.formatted(token, echo.port()));
            SdtProcesses.Node server = processes.start("run", serverYaml.toString());
            String serverPort = server.await("server listening on 127\\.0\\.0\\.1:(\\d+)");
            Path clientYaml = Files.writeString(dir.resolve("client.yaml"), """
                    node: client
                    link: {server: "127.0.0.1:%s", token: "%s"}
                    policy: {proxy_auth: "alice:%s"}
                    admin: "127.0.0.1:0"
                    logging: {level: debug, audit: json}
                    tunnels:
                      - {bind: "127.0.0.1:0", target: "127.0.0.1:%d"}
                      - {mode: dynamic, bind: "127.0.0.1:0"}
                    """.formatted(serverPort, token, password, echo.port()));
            SdtProcesses.Node client = processes.start("run", clientYaml.toString());
            int port = listening(client, "127.0.0.1:0:127.0.0.1:" + echo.port());
            int admin = Integer.parseInt(client.seen("admin listening on 127\\.0\\.0\\.1:(\\d+)"));
            client.seen("link up");
            roundTrip(port, 6);
            String tunnels = get(admin, "/tunnels");
            String metrics = get(admin, "/metrics");
            CliTest.Result printed = CliTest.run("run", "--print-config", clientYaml.toString());
            client.signal("TERM");
            server.signal("TERM");
            assertTrue(client.process().waitFor(30, TimeUnit.SECONDS));
            assertTrue(server.process().waitFor(30, TimeUnit.SECONDS));
            String logs = client.output() + server.output();
            assertTrue(logs.contains("DEBUG"), "debug logging was on");
            assertTrue(tunnels.contains("\"tunnel\""), tunnels);
            for (String secret : new String[] {token, password}) {
                assertFalse(logs.contains(secret), "a secret in the logs");
                assertFalse(tunnels.contains(secret), "a secret in /tunnels");
                assertFalse(metrics.contains(secret), "a secret in /metrics");
                assertFalse(printed.out().contains(secret), "a secret in --print-config");
            }
            assertTrue(printed.out().contains("********"), printed.out());
        }
    }
}
