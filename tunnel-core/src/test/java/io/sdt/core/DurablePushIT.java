package io.sdt.core;

import io.sdt.core.link.LinkSettings;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.BlackholeRelay;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.LineReceiver;
import io.sdt.core.testing.Nodes;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ,push,spool-dir=}: records are numbered into a spool on disk at the ingress and deleted only
 * when the egress acknowledges their delivery, so link drops and restarts of either node lose nothing.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DurablePushIT {

    @TempDir
    Path spoolDir;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicLong written = new AtomicLong();

    private List<Future<?>> produce(InetSocketAddress at, int producers, int perProducer) {
        return PushTcpIT.produce(threads, at, producers, perProducer, written);
    }

    private static long duplicates(LineReceiver b) {
        return b.lines.values().stream().mapToLong(n -> n.get() - 1).sum();
    }

    private String spec(LineReceiver b, String options) {
        return "127.0.0.1:0:127.0.0.1:" + b.port() + ",push,record=256,spool-dir=" + spoolDir + options;
    }

    @Test
    void aLinkThatDiesSilentlyLosesNothingAndDuplicatesNothing() throws Exception {
        int producers = 10;
        int perProducer = 5_000;
        long total = (long) producers * perProducer;
        LinkSettings fastDeath = LinkSettings.defaults().withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(1));
        try (Nodes nodes = new Nodes(); LineReceiver b = new LineReceiver()) {
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + b.port()).settings(fastDeath));
            try (BlackholeRelay relay = new BlackholeRelay(server.address())) {
                SdtClient client = nodes.client(relay.port(), bld -> bld.settings(fastDeath)
                        .forward(Direction.LOCAL, spec(b, "")), true);
                Tunnel t = client.tunnels().get(0);
                List<Future<?>> all = produce(t.awaitBound(Duration.ofSeconds(10)), producers, perProducer);
                Await.until("B has a quarter", Duration.ofSeconds(60), () -> b.total.get() >= total / 4);
                long linksBefore = server.stats().linksEstablished();
                relay.blackholeExisting(); // the path dies silently: what is in flight is lost on the wire
                Await.until("the client links again", Duration.ofSeconds(30),
                        () -> server.stats().linksEstablished() > linksBefore);
                for (Future<?> f : all) {
                    f.get(120, TimeUnit.SECONDS);
                }
                Await.until("every line arrives", Duration.ofSeconds(60), () -> b.lines.size() >= total);
                Await.until("the spool is acknowledged", Duration.ofSeconds(10), () -> b.total.get() >= total);
                assertEquals(total, b.lines.size(), "none lost");
                assertEquals(0, duplicates(b), "none twice: the egress knew what it had delivered");
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @ParameterizedTest(name = "push state kept across restarts: {0}")
    @ValueSource(booleans = {true, false})
    void aServerRestartLosesNothing(boolean stateDir) throws Exception {
        int producers = 10;
        int perProducer = 5_000;
        long total = (long) producers * perProducer;
        Path state = stateDir ? spoolDir.resolve("server-state") : null;
        try (Nodes nodes = new Nodes(); LineReceiver b = new LineReceiver()) {
            SdtServer first = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + b.port()).pushStateDir(state));
            int port = first.address().getPort();
            SdtClient client = nodes.client(first, bld -> bld.forward(Direction.LOCAL, spec(b, "")));
            Tunnel t = client.tunnels().get(0);
            List<Future<?>> all = produce(t.awaitBound(Duration.ofSeconds(10)), producers, perProducer);
            Await.until("B has a third", Duration.ofSeconds(60), () -> b.total.get() >= total / 3);
            first.close();
            Thread.sleep(500);
            nodes.server(bld -> bld.listen("127.0.0.1", port).allowTarget("127.0.0.1:" + b.port()).pushStateDir(state));
            for (Future<?> f : all) {
                f.get(120, TimeUnit.SECONDS);
            }
            Await.until("every line arrives", Duration.ofSeconds(60), () -> b.lines.size() >= total);
            Thread.sleep(500);
            assertEquals(total, b.lines.size(), "none lost");
            if (stateDir) {
                assertEquals(0, duplicates(b), "none twice: the new server knew what the old one had delivered");
            } else {
                // without push.spool_dir a restarted egress does not know what its predecessor delivered
                // but had not yet acknowledged: at least once
                System.err.println("DurablePushIT: server restart without push.spool_dir: " + duplicates(b) + " of "
                        + total + " lines delivered twice");
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void recordsSpooledByAStoppedClientAreDeliveredByTheNextOneExactlyOnce() throws Exception {
        int producers = 4;
        int perProducer = 2_000;
        long total = (long) producers * perProducer;
        try (Nodes nodes = new Nodes(); LineReceiver b = new LineReceiver()) {
            int sinkPort = b.port();
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + sinkPort));
            b.away(); // the sink is away: everything stays in the spool
            SdtClient first = nodes.client(server, bld -> bld.forward(Direction.LOCAL,
                    "127.0.0.1:0:127.0.0.1:" + sinkPort + ",push,spool-dir=" + spoolDir));
            for (Future<?> f : produce(first.tunnels().get(0).awaitBound(Duration.ofSeconds(10)), producers, perProducer)) {
                f.get(60, TimeUnit.SECONDS);
            }
            Await.until("the ingress read every line", Duration.ofSeconds(30),
                    () -> first.tunnels().get(0).datagramsIn() >= total);
            first.close(); // returns once the spool thread has appended and synced everything the ingress read

            b.start(sinkPort);
            nodes.client(server, bld -> bld.forward(Direction.LOCAL,
                    "127.0.0.1:0:127.0.0.1:" + sinkPort + ",push,spool-dir=" + spoolDir));
            Await.until("every line arrives", Duration.ofSeconds(60), () -> b.lines.size() >= total);
            Thread.sleep(500);
            assertEquals(total, b.lines.size(), "none lost across the ingress restart");
            assertEquals(0, duplicates(b), "none twice");
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aFullSpoolHoldsTheProducersBackAndDropsNothing() throws Exception {
        int producers = 2;
        int perProducer = 20_000; // ~ 1.5 MiB of lines into a 64 KiB spool
        long total = (long) producers * perProducer;
        try (Nodes nodes = new Nodes(); LineReceiver b = new LineReceiver()) {
            int sinkPort = b.port();
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + sinkPort));
            SdtClient client = nodes.client(server, bld -> bld.forward(Direction.LOCAL, spec(b, ",spool-max=64k")));
            b.away();
            Tunnel t = client.tunnels().get(0);
            List<Future<?>> all = produce(t.awaitBound(Duration.ofSeconds(10)), producers, perProducer);
            long last = -1;
            for (int i = 0; i < 60 && t.datagramsIn() != last; i++) { // until the ingress stops reading
                last = t.datagramsIn();
                Thread.sleep(500);
            }
            long held = t.datagramsIn(); // what the producers wrote beyond this waits in their sockets' buffers
            b.start(sinkPort);
            for (Future<?> f : all) {
                f.get(120, TimeUnit.SECONDS);
            }
            Await.until("every line arrives", Duration.ofSeconds(60), () -> b.lines.size() >= total);
            assertTrue(held < total, "back-pressure held the producers at " + held + " records read");
            assertEquals(total, b.lines.size(), "nothing dropped");
            assertEquals(0, t.datagramsDropped());
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void overflowDropCountsExactlyWhatTheSinkNeverSaw() throws Exception {
        int producers = 2;
        int perProducer = 5_000;
        long total = (long) producers * perProducer;
        try (Nodes nodes = new Nodes(); LineReceiver b = new LineReceiver()) {
            int sinkPort = b.port();
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + sinkPort));
            SdtClient client = nodes.client(server, bld -> bld.forward(Direction.LOCAL,
                    spec(b, ",spool-max=64k,overflow=drop")));
            b.away();
            Tunnel t = client.tunnels().get(0);
            for (Future<?> f : produce(t.awaitBound(Duration.ofSeconds(10)), producers, perProducer)) {
                f.get(60, TimeUnit.SECONDS); // never held back
            }
            Await.until("the ingress read every line", Duration.ofSeconds(30), () -> t.datagramsIn() >= total);
            Await.until("the drops are counted", Duration.ofSeconds(10), () -> t.datagramsDropped() > 0);
            Thread.sleep(500);
            long dropped = t.datagramsDropped();
            b.start(sinkPort);
            Await.until("what was kept arrives", Duration.ofSeconds(60), () -> b.lines.size() >= total - dropped);
            Thread.sleep(500);
            assertEquals(total - dropped, b.lines.size(), "the sink saw exactly what was not counted as dropped");
            assertEquals(dropped, client.stats().pushOverflows(), "and /metrics counts the same drops");
            assertEquals(0, duplicates(b));
        } finally {
            threads.shutdownNow();
        }
    }
}
