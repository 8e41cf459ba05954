package io.sdt.core;

import io.sdt.core.testing.Await;
import io.sdt.core.testing.LogCapture;
import io.sdt.core.testing.Nodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The link port cannot be locked: idle connections from many sources do not keep a client out, and a
 * flood of failing connections writes a bounded number of log lines while the counters stay exact.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LockoutIT {

    private LogCapture capture;

    @BeforeEach
    void captureLinkLogs() {
        capture = LogCapture.of("io.sdt.core.link");
    }

    @AfterEach
    void stopCapture() {
        capture.close();
    }

    /** Holds an idle connection from {@code 127.0.0.<host>} and opens a new one whenever it is closed. */
    private static void holdIdle(int host, InetSocketAddress at, AtomicBoolean stop, AtomicInteger opened) {
        byte[] sink = new byte[256];
        for (int i = 0; i < 10_000 && !stop.get(); i++) { // bounded; ends with the test
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress("127.0.0." + host, 0));
                s.connect(at, 2000);
                opened.incrementAndGet();
                s.setSoTimeout(200);
                InputStream in = s.getInputStream();
                while (!stop.get()) {
                    try {
                        if (in.read(sink) < 0) {
                            break; // closed by the server: replace it
                        }
                    } catch (java.net.SocketTimeoutException e) {
                        // still held; look at stop again
                    }
                }
            } catch (IOException e) {
                // refused or reset: replace it
            }
            try {
                Thread.sleep(100); // a new connection 100 ms after the last was closed: ~1,400 a second from 200
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Test
    void twoHundredIdleConnectionsFromOtherSourcesDoNotKeepAClientOut() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger opened = new AtomicInteger();
        try (Nodes nodes = new Nodes(); ExecutorService attackers = Executors.newVirtualThreadPerTaskExecutor()) {
            SdtServer server = nodes.server(b -> { });
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", server.address().getPort());
            for (int i = 0; i < 200; i++) {
                int host = 2 + i;
                attackers.execute(() -> holdIdle(host, at, stop, opened));
            }
            try {
                // every attacker connected at least once (the last of 200 virtual threads may start after the
                // waiting room is already full) and the waiting room is full
                Await.until("200 attackers connected and the waiting room full", Duration.ofSeconds(30),
                        () -> opened.get() >= 200
                                && server.pendingHandshakes() == server.config().settings().maxUnauthenticated());
                SdtClient client = nodes.client(server.address().getPort(), b -> { }, false);
                assertTrue(client.awaitUp(Duration.ofSeconds(60)), "the client got in");
                long dials = client.stats().linkDials();
                assertTrue(dials <= 2, "linked on its first or second dial, not " + dials);
                assertTrue(opened.get() >= 200, "the attack ran: " + opened.get() + " connections");
            } finally {
                stop.set(true);
            }
        }
    }

    @Test
    void aGarbageFloodWritesABoundedNumberOfLogLinesAndCountsEveryConnection() throws Exception {
        int flood = 5_000;
        try (Nodes nodes = new Nodes(); ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
            SdtServer server = nodes.server(b -> { });
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", server.address().getPort());
            byte[] garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            AtomicInteger closed = new AtomicInteger();
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int host = 2 + t; // eight sources, each below its share of the waiting room
                done.add(senders.submit(() -> {
                    for (int i = 0; i < flood / 8; i++) {
                        try (Socket s = new Socket()) {
                            s.bind(new InetSocketAddress("127.0.0." + host, 0));
                            s.connect(at, 5000);
                            s.setSoTimeout(10_000);
                            s.getOutputStream().write(garbage);
                            while (s.getInputStream().read() >= 0) {
                                // whatever the server answers, until it closes
                            }
                            closed.incrementAndGet();
                        } catch (IOException e) {
                            closed.incrementAndGet(); // reset by the server: closed too
                        }
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get(100, TimeUnit.SECONDS);
            }
            assertEquals(flood, closed.get());
            Await.until("every failure counted", Duration.ofSeconds(10),
                    () -> server.stats().handshakeFailures() >= flood);
            List<String> lines = capture.lines();
            int logged = lines.size();
            assertTrue(logged <= 12, "a flood of " + flood + " bad connections wrote " + logged + " lines:\n"
                    + String.join("\n", lines.subList(0, Math.min(logged, 40))));
            assertTrue(logged >= 1, "the first ones are still logged in full");
        }
    }
}
