package io.sdt.server;

import io.sdt.core.link.Token;
import io.sdt.core.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * RELP end to end with real rsyslogs (Debian {@code rsyslog} and {@code rsyslog-relp}): a sending rsyslog
 * forwards with omrelp to the sdt client's {@code ,push,relp} listener; the sdt server's egress speaks
 * RELP to a receiving rsyslog (imrelp), which writes every message to a file. The sdt client, the sdt
 * server and the receiving rsyslog are each killed with SIGKILL mid-run and restarted: every message
 * reaches the file, and how many arrive twice is measured (RELP is at-least-once where an answer dies
 * with its process; see the assertion).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RelpPushProcessIT {

    private static final Path RSYSLOGD = Path.of("/usr/sbin/rsyslogd");
    private static final Pattern SEQ = Pattern.compile("seq=(\\d{6})");
    private static final int MESSAGES = 30_000;

    @TempDir
    Path dir;
    private final SdtProcesses processes = new SdtProcesses();
    private final List<Process> rsyslogs = new ArrayList<>();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger written = new AtomicInteger();

    @AfterEach
    void stopEverythingWeStarted() throws Exception {
        threads.shutdownNow();
        for (Process p : rsyslogs) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        processes.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean relpModules() {
        for (String lib : List.of("/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog",
                "/usr/lib/rsyslog")) {
            if (Files.exists(Path.of(lib, "imrelp.so")) && Files.exists(Path.of(lib, "omrelp.so"))) {
                return true;
            }
        }
        return false;
    }

    /** Starts rsyslogd in the foreground with {@code config}; waits until {@code port} takes connections. */
    private Process rsyslog(String name, String config, int port) throws Exception {
        Path work = Files.createDirectories(dir.resolve(name));
        Path conf = Files.writeString(dir.resolve(name + ".conf"), "global(workDirectory=\"" + work + "\")\n" + config);
        Process p = new ProcessBuilder(RSYSLOGD.toString(), "-n", "-f", conf.toString(), "-i",
                dir.resolve(name + ".pid").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".out").toFile()))
                .start();
        rsyslogs.add(p);
        Await.until(name + " listening on " + port, Duration.ofSeconds(20), () -> {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return probe.isConnected();
            } catch (IOException e) {
                assertTrue(p.isAlive(), () -> name + " exited: " + read(dir.resolve(name + ".out")));
                return false;
            }
        });
        return p;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The receiving rsyslog: imrelp into a file, each message written before it is answered (direct queue). */
    private Process receiver(int port, Path out) throws Exception {
        return rsyslog("receiver", String.join("\n",
                "module(load=\"imrelp\")",
                "template(name=\"m\" type=\"string\" string=\"%msg%\\n\")",
                "ruleset(name=\"in\" queue.type=\"direct\") {",
                "  action(type=\"omfile\" file=\"" + out + "\" template=\"m\" asyncWriting=\"off\" flushOnTXEnd=\"on\")",
                "}",
                "input(type=\"imrelp\" address=\"127.0.0.1\" port=\"" + port + "\" ruleset=\"in\")",
                ""), port);
    }

    /** The sending rsyslog: plain TCP in (the test writes to it), omrelp out to the sdt ingress, retrying forever. */
    private Process sender(int port, int relpTo) throws Exception {
        return rsyslog("sender", String.join("\n",
                "module(load=\"imtcp\")",
                "module(load=\"omrelp\")",
                "ruleset(name=\"fwd\") {",
                "  action(type=\"omrelp\" target=\"127.0.0.1\" port=\"" + relpTo + "\" action.resumeRetryCount=\"-1\"",
                "         action.resumeInterval=\"1\" queue.type=\"LinkedList\" queue.size=\"100000\")",
                "}",
                "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + port + "\" ruleset=\"fwd\")",
                ""), port);
    }

    private SdtProcesses.Node server(Path token, int port, int target) throws Exception {
        return processes.pushServer(dir, token, port, target);
    }

    private SdtProcesses.Node client(Path token, int port, int ingress, int target) throws Exception {
        String l = "127.0.0.1:" + ingress + ":127.0.0.1:" + target + ",push,relp,spool-dir=" + dir.resolve("spool");
        SdtProcesses.Node c = processes.start("client", "--server", "127.0.0.1:" + port, "--token-file", token.toString(),
                "-L", l);
        c.await("tunnel " + Pattern.quote(l) + " listening on 127\\.0\\.0\\.1:" + ingress);
        return c;
    }

    /** Writes the numbered messages to the sending rsyslog at a steady pace (~2,500 per second). */
    private Future<?> produce(int port) {
        return threads.submit(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                OutputStream out = new BufferedOutputStream(s.getOutputStream(), 8192);
                for (int n = 0; n < MESSAGES; n++) {
                    out.write(String.format("<13>Dec  6 04:00:00 host relptest: seq=%06d%n", n)
                            .getBytes(StandardCharsets.US_ASCII));
                    if (n % 25 == 24) {
                        out.flush();
                        written.set(n + 1);
                        Thread.sleep(10);
                    }
                }
                out.flush();
                written.set(MESSAGES);
            }
            return null;
        });
    }

    /** How often each sequence number is in the receiver's file so far. */
    private static Map<Integer, Integer> received(Path out) {
        Map<Integer, Integer> seen = new HashMap<>();
        if (!Files.exists(out)) {
            return seen;
        }
        try {
            for (String line : Files.readAllLines(out, StandardCharsets.US_ASCII)) {
                Matcher m = SEQ.matcher(line);
                if (m.find()) {
                    seen.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return seen;
    }

    private static long twice(Map<Integer, Integer> seen) {
        return seen.values().stream().filter(c -> c > 1).count();
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    }

    @Test
    void everyMessageReachesTheLogServerWhenClientServerAndReceiverAreEachKilled() throws Exception {
        assumeTrue(Files.isExecutable(RSYSLOGD) && relpModules(),
                "needs Debian packages rsyslog and rsyslog-relp (.ci/run installs them)");
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        int link = freePort();
        int ingress = freePort();
        int relpIn = freePort();
        int tcpIn = freePort();
        Path out = dir.resolve("received.log");
        Process receiver = receiver(relpIn, out);
        SdtProcesses.Node server = server(token, link, relpIn);
        SdtProcesses.Node client = client(token, link, ingress, relpIn);
        sender(tcpIn, ingress);
        Future<?> producer = produce(tcpIn);

        Await.until("a quarter arrived", Duration.ofSeconds(60), () -> received(out).size() >= MESSAGES / 4);
        kill(client.process());
        client(token, link, ingress, relpIn); // the same spool directory

        Await.until("half arrived", Duration.ofSeconds(60), () -> received(out).size() >= MESSAGES / 2);
        long afterClient = twice(received(out));
        kill(server.process());
        server(token, link, relpIn); // the same push.spool_dir

        Await.until("three quarters arrived", Duration.ofSeconds(60), () -> received(out).size() >= 3 * MESSAGES / 4);
        long afterServer = twice(received(out));
        kill(receiver);
        receiver(relpIn, out);

        producer.get(60, TimeUnit.SECONDS);
        Await.until("every message arrived", Duration.ofSeconds(90), () -> received(out).size() >= MESSAGES);
        // until the file holds still for 2 s: anything resent late would show by then
        long[] last = {-1, System.nanoTime()};
        Await.until("the receiver's file holds still", Duration.ofSeconds(30), () -> {
            long size = out.toFile().length();
            if (size != last[0]) {
                last[0] = size;
                last[1] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - last[1] >= TimeUnit.SECONDS.toNanos(2);
        });
        Map<Integer, Integer> seen = received(out);
        List<Integer> missing = new ArrayList<>();
        for (int n = 0; n < MESSAGES; n++) {
            if (!seen.containsKey(n)) {
                missing.add(n);
            }
        }
        assertEquals(List.of(), missing, "messages lost");
        long twice = twice(seen);
        System.err.println("RelpPushProcessIT: " + MESSAGES + " messages through sdt client, server and receiving"
                + " rsyslog, each killed -9 once: none lost, " + twice + " arrived more than once (client kill "
                + afterClient + ", server kill " + (afterServer - afterClient) + ", receiver kill "
                + (twice - afterServer) + ")");
        // RELP is at-least-once where an answer dies with its process: a message the receiver wrote but whose
        // answer its death swallowed, or one the sdt client put on disk but whose answer to omrelp its death
        // swallowed, is sent again (librelp's own documentation says the same). Those windows hold at most
        // one RELP window of messages each (128 for librelp and for our egress).
        assertTrue(twice <= 3 * 128, twice + " messages more than once: more than the three kills' windows");
    }
}
