package io.sdt.server;

import io.sdt.core.link.Token;
import io.sdt.core.testing.LineReceiver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Durable push ({@code spool-dir=}) between real sdt processes, with the server and then the client
 * killed with SIGKILL mid-run: what the ingress had read is delivered, in order per producer, without gaps.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DurablePushProcessIT {

    private static final Pattern LINE = Pattern.compile("p(\\d+)-(\\d+) x*");
    private static final int PRODUCERS = 10;
    private static final int PER_PRODUCER = 10_000;

    @TempDir
    Path dir;
    private final SdtProcesses processes = new SdtProcesses();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    /** Per producer: records whose write() returned (the kernel took them). */
    private final AtomicLongArray written = new AtomicLongArray(PRODUCERS);

    @AfterEach
    void stopEverythingWeStarted() throws Exception {
        threads.shutdownNow();
        processes.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String line(int producer, int n) {
        return "p" + producer + "-" + n + " " + "x".repeat(n % 61);
    }

    /** A server from a configuration file whose push.spool_dir keeps what its egress delivered across restarts. */
    private SdtProcesses.Node server(Path token, int port, int sink) throws Exception {
        return processes.pushServer(dir, token, port, sink);
    }

    /** A client with the durable push tunnel; returns it with the port its producers connect to. */
    private Object[] client(Path token, int port, int sink) throws Exception {
        String l = "127.0.0.1:0:127.0.0.1:" + sink + ",push,record=256,spool-dir=" + dir.resolve("spool");
        SdtProcesses.Node c = processes.start("client", "--server", "127.0.0.1:" + port, "--token-file", token.toString(),
                "-L", l);
        int at = Integer.parseInt(c.await("tunnel " + Pattern.quote(l) + " listening on 127\\.0\\.0\\.1:(\\d+)"));
        return new Object[] {c, at};
    }

    /** Producer {@code p} writes its records from {@code from} on, until done or its connection fails. */
    private Future<?> produce(int at, int p, int from) {
        return threads.submit(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", at), 5000);
                OutputStream out = new BufferedOutputStream(s.getOutputStream(), 1024);
                for (int n = from; n < PER_PRODUCER; n++) {
                    out.write((line(p, n) + "\n").getBytes(StandardCharsets.UTF_8));
                    if (n % 20 == 19) {
                        out.flush();
                        written.set(p, n + 1);
                        Thread.sleep(5); // a steady producer (~4,000 records/s), not a flood
                    }
                }
                out.flush();
                written.set(p, PER_PRODUCER);
                s.shutdownOutput();
            } catch (IOException e) {
                // the ingress died: this producer stops, as a real one would until it reconnects
            }
            return null;
        });
    }

    /** Per producer, the highest record number the sink has, after checking there is no gap and no duplicate. */
    private static long[] checkedPrefixes(LineReceiver sink) {
        long[] highest = new long[PRODUCERS];
        java.util.Arrays.fill(highest, -1);
        List<int[]> seen = new ArrayList<>();
        for (var e : new java.util.HashMap<>(sink.lines).entrySet()) { // a snapshot: nothing arrives any more
            Matcher m = LINE.matcher(e.getKey());
            assertTrue(m.matches(), "a whole record: " + e.getKey());
            assertEquals(1, e.getValue().get(), "delivered once: " + e.getKey());
            seen.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        }
        long[] count = new long[PRODUCERS];
        for (int[] s : seen) {
            highest[s[0]] = Math.max(highest[s[0]], s[1]);
            count[s[0]]++;
        }
        for (int p = 0; p < PRODUCERS; p++) {
            int producer = p;
            assertEquals(highest[p] + 1, count[p], () -> "producer " + producer + ": no gap before record "
                    + highest[producer] + "; missing " + java.util.stream.IntStream.rangeClosed(0, (int) highest[producer])
                    .filter(n -> !sink.lines.containsKey(line(producer, n))).boxed().toList());
        }
        return highest;
    }

    @Test
    void aServerKilledMidRunLosesNothingAndDuplicatesNothing() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        int port = freePort();
        try (LineReceiver sink = new LineReceiver()) {
            SdtProcesses.Node first = server(token, port, sink.port());
            int at = (int) client(token, port, sink.port())[1];
            List<Future<?>> all = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                all.add(produce(at, p, 0));
            }
            long total = (long) PRODUCERS * PER_PRODUCER;
            io.sdt.core.testing.Await.until("a third arrived", java.time.Duration.ofSeconds(60),
                    () -> sink.total.get() >= total / 3);
            first.process().destroyForcibly();
            assertTrue(first.process().waitFor(10, TimeUnit.SECONDS));
            server(token, port, sink.port());
            for (Future<?> f : all) {
                f.get(120, TimeUnit.SECONDS);
            }
            io.sdt.core.testing.Await.until("every record arrived", java.time.Duration.ofSeconds(60),
                    () -> sink.lines.size() >= total);
            Thread.sleep(500);
            long duplicates = sink.lines.values().stream().mapToLong(n -> n.get() - 1).sum();
            assertEquals(total, sink.lines.size(), "none lost");
            System.err.println("DurablePushProcessIT: server SIGKILL: " + duplicates + " of " + total
                    + " records delivered twice, none lost");
            // The one window left: the kernel took a write and the process died before the write's completion
            // reached its listener, which records the delivery. Bytes a dead process's kernel had taken are
            // delivered, so those records arrive twice; that window is one flush of the egress, not the
            // thousands of unacknowledged records a restart without push.spool_dir resends (6,416 measured).
            assertTrue(duplicates <= 100, duplicates + " records twice: more than one flush's worth");
        }
    }

    @Test
    void aClientKilledMidRunDeliversEverythingItHadReadOnceAndInOrder() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        int port = freePort();
        try (LineReceiver sink = new LineReceiver()) {
            server(token, port, sink.port());
            Object[] first = client(token, port, sink.port());
            List<Future<?>> all = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                all.add(produce((int) first[1], p, 0));
            }
            long total = (long) PRODUCERS * PER_PRODUCER;
            io.sdt.core.testing.Await.until("a third arrived", java.time.Duration.ofSeconds(60),
                    () -> sink.total.get() >= total / 3);
            Process killed = ((SdtProcesses.Node) first[0]).process();
            killed.destroyForcibly();
            assertTrue(killed.waitFor(10, TimeUnit.SECONDS));
            for (Future<?> f : all) {
                f.get(60, TimeUnit.SECONDS); // they fail and stop
            }
            long appended; // what the killed ingress had made safe: the spool's own count
            try (io.sdt.core.tunnel.push.spool.DurableSpool spool = io.sdt.core.tunnel.push.spool.DurableSpool.open(
                    dir.resolve("spool"), 1L << 30, 16L << 20, io.sdt.core.tunnel.push.spool.DurableSpool.Fsync.NEVER,
                    TimeUnit.SECONDS.toNanos(1))) {
                appended = spool.nextSequence() - 1;
            }
            client(token, port, sink.port()); // the same spool directory
            // until the resend is done: the sink's count unchanged for 3 s (a reconnect takes at most ~1 s)
            long settled = -1;
            int quiet = 0;
            for (int i = 0; i < 120 && quiet < 6; i++) {
                long now = sink.total.get();
                quiet = now == settled ? quiet + 1 : 0;
                settled = now;
                Thread.sleep(500);
            }
            long[] highest = checkedPrefixes(sink);
            assertEquals(appended, sink.total.get(), "every record the ingress had appended arrived, each exactly once");
            long lost = 0;
            for (int p = 0; p < PRODUCERS; p++) {
                lost += Math.max(0, written.get(p) - (highest[p] + 1));
            }
            System.err.println("DurablePushProcessIT: client SIGKILL: " + sink.total.get() + " records delivered, each once and"
                    + " in order; " + lost + " records the producers had written were lost in the killed node's kernel"
                    + " buffers (never read by the ingress)");
        }
    }
}
