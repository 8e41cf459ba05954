package io.sdt.core;

import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.LineReceiver;
import io.sdt.core.testing.Nodes;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TCP push: records from many producers, one upstream connection, a spool while B is away. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PushTcpIT {

    private static final Pattern LINE = Pattern.compile("p(\\d+)-(\\d+) (x*)");

    static String line(int producer, int n) {
        return "p" + producer + "-" + n + " " + "x".repeat(n % 61);
    }

    enum Side { LOCAL, REMOTE }

    /**
     * {@code producers} connections to {@code at}, each writing {@code perProducer} numbered lines
     * ({@link #line}) and counting them in {@code written}, then half-closing.
     */
    static List<Future<?>> produce(ExecutorService threads, InetSocketAddress at, int producers, int perProducer,
                                   AtomicLong written) {
        List<Future<?>> all = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            all.add(threads.submit(() -> {
                try (Socket s = new Socket()) {
                    s.connect(at, 5000);
                    OutputStream out = new BufferedOutputStream(s.getOutputStream(), 4096);
                    for (int n = 0; n < perProducer; n++) {
                        out.write((line(producer, n) + "\n").getBytes(StandardCharsets.UTF_8));
                        written.incrementAndGet();
                    }
                    out.flush();
                    s.shutdownOutput();
                }
                return null;
            }));
        }
        return all;
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void hundredThousandLinesFromTenProducersSurviveAReceiverRestart(Side side) throws Exception {
        int producers = 10;
        int perProducer = 10_000;
        long total = (long) producers * perProducer;
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        AtomicLong written = new AtomicLong();
        try (Nodes nodes = new Nodes(); LineReceiver b = new LineReceiver()) {
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + b.port()).allowBind("127.0.0.1:*"));
            String spec = "127.0.0.1:0:127.0.0.1:" + b.port() + ",push,record=256";
            SdtClient client = nodes.client(server, bld -> bld.forward(
                    side == Side.LOCAL ? Direction.LOCAL : Direction.REMOTE, spec));
            Tunnel t = client.tunnels().get(0);
            InetSocketAddress at = t.awaitBound(Duration.ofSeconds(10));
            List<Future<?>> all = produce(threads, at, producers, perProducer, written);
            // stop B mid-stream, keep it down while producers write on, then bring it back
            Await.until("B has a third of the lines", Duration.ofSeconds(60), () -> b.total.get() >= total / 3);
            b.stopGracefully();
            long atStop = written.get();
            Await.until("producers write on while B is down", Duration.ofSeconds(60),
                    () -> written.get() >= Math.min(total, atStop + total / 5));
            Await.until("B's first connection has drained and closed", Duration.ofSeconds(30),
                    () -> b.connections.get() == 1 && b.open.get() == 0);
            b.start(b.port());
            for (Future<?> f : all) {
                f.get(120, TimeUnit.SECONDS);
            }
            Await.until("all lines arrive", Duration.ofSeconds(60), () -> b.total.get() >= total);
            assertEquals(total, b.total.get(), "no line duplicated");
            assertEquals(total, b.lines.size(), "no line lost");
            for (String l : b.lines.keySet()) {
                Matcher m = LINE.matcher(l);
                assertTrue(m.matches(), "a whole line: " + l);
                assertEquals(Integer.parseInt(m.group(2)) % 61, m.group(3).length(), "not split or interleaved: " + l);
            }
            assertEquals(2, b.connections.get(), "one upstream connection before the restart, one after");
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void spoolOverflowIsCountedAndNothingElseBreaks() throws Exception {
        int deadPort;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = probe.getLocalPort();
        }
        try (Nodes nodes = new Nodes()) {
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:*"));
            SdtClient client = nodes.client(server, bld -> bld.forward(Direction.LOCAL,
                    "0:127.0.0.1:" + deadPort + ",push,spool=2k"));
            try (Socket s = new Socket()) {
                s.connect(client.tunnels().get(0).boundAddress(), 5000);
                OutputStream out = s.getOutputStream();
                for (int n = 0; n < 100; n++) {
                    out.write(("record " + n + " " + "y".repeat(80) + "\n").getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
                // 100 records of ~90 bytes into a 2 KiB spool with no target: most overflow
                Await.until("overflow counted", Duration.ofSeconds(10), () -> server.stats().pushOverflows() >= 70);
                assertTrue(server.stats().pushOverflows() <= 100 - 2048 / 100);
                assertTrue(client.isUp(), "the link is unaffected");
            }
        }
    }
}
