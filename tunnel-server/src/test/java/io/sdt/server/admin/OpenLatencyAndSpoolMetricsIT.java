package io.sdt.server.admin;

import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.LineReceiver;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sdt_channel_open_seconds} (the ingress's OPEN-to-answer histogram) and the push spool gauges
 * {@code sdt_push_spool_bytes} / {@code sdt_push_spool_records}, scraped from real nodes on loopback and
 * parsed by the strict {@link PrometheusText} parser.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenLatencyAndSpoolMetricsIT {

    private static final InetAddress V4 = InetAddress.getLoopbackAddress();
    private static final String HISTOGRAM = "sdt_channel_open_seconds";
    /** The {@code le} values, in the order they must appear. */
    private static final String[] LE = {"5.0E-4", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
            "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"};

    private final Transport transport = Transport.select("auto");
    private final Admins admins = new Admins(transport);

    @AfterEach
    void closeAdmins() {
        admins.close();
    }

    private InetSocketAddress admin(NodeView node) {
        return admins.start(node);
    }

    private PrometheusText scrape(InetSocketAddress at) {
        try {
            HttpResponse<String> r = admins.send(at, "GET", "/metrics");
            assertEquals(200, r.statusCode());
            return PrometheusText.parse(r.body());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theHistogramCountsExactlyTheOpensAnsweredOkAndFail() throws Exception {
        try (Nodes nodes = new Nodes(transport); Targets echo = Targets.echo(); UdpTarget udp = UdpTarget.echo(V4)) {
            // policy admits the echo targets only: the tunnel to port 9 gets OPEN_FAIL (DENIED)
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port())
                    .allowTarget("127.0.0.1:" + udp.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + echo.port())
                    .forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:9")
                    .forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + udp.port() + "/udp"));
            InetSocketAddress clientAdmin = admin(NodeView.of(client));
            InetSocketAddress serverAdmin = admin(NodeView.of(server));

            PrometheusText idle = scrape(clientAdmin);
            assertNull(idle.types.get(HISTOGRAM), "the family appears with the first answered OPEN");

            int ok = 5;
            for (int i = 0; i < ok; i++) {
                byte[] sent = ("hello " + i).getBytes(StandardCharsets.UTF_8);
                try (Socket s = new Socket()) {
                    s.connect(client.tunnels().get(0).boundAddress(), 5000);
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write(sent);
                    s.shutdownOutput();
                    assertArrayEquals(sent, s.getInputStream().readAllBytes(), "echoed through channel " + i);
                }
            }
            PrometheusText afterOk = scrape(clientAdmin);
            assertHistogram(afterOk, "tcp", "ok", ok);
            assertHistogram(afterOk, "tcp", "fail", 0);

            int denied = 2;
            for (int i = 0; i < denied; i++) {
                try (Socket s = new Socket()) {
                    s.connect(client.tunnels().get(1).boundAddress(), 5000);
                    s.setSoTimeout(10_000);
                    // the ingress closes the socket once OPEN_FAIL is in, after timing it
                    assertEquals(-1, s.getInputStream().read(), "denied open closes the customer's socket");
                }
            }
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0))) {
                s.setSoTimeout(10_000);
                byte[] out = "ping".getBytes(StandardCharsets.UTF_8);
                s.send(new DatagramPacket(out, out.length, client.tunnels().get(2).boundAddress()));
                DatagramPacket p = new DatagramPacket(new byte[64], 64);
                s.receive(p); // the egress answers OPEN_OK before it forwards the datagram
                assertEquals("ping", new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
            }

            PrometheusText m = scrape(clientAdmin);
            assertEquals("histogram", m.types.get(HISTOGRAM));
            assertHistogram(m, "tcp", "ok", ok);
            assertHistogram(m, "tcp", "fail", denied);
            assertHistogram(m, "udp", "ok", 1);
            assertHistogram(m, "udp", "fail", 0);
            assertEquals(4, m.find(HISTOGRAM + "_count", Map.of()).size(), "only the modes that opened: tcp and udp");

            PrometheusText s = scrape(serverAdmin);
            assertNull(s.types.get(HISTOGRAM), "the egress answers OPENs, it does not time them");
        }
    }

    /**
     * One series of the histogram: 15 buckets in ascending {@code le} order with the documented bounds,
     * cumulative, {@code +Inf} equal to {@code _count}, which is {@code count}; {@code _sum} positive
     * when anything was recorded.
     */
    private static void assertHistogram(PrometheusText m, String mode, String result, long count) {
        Map<String, String> labels = Map.of("mode", mode, "result", result);
        String what = HISTOGRAM + labels;
        List<PrometheusText.Sample> buckets = m.find(HISTOGRAM + "_bucket", labels);
        assertEquals(LE.length, buckets.size(), what + " buckets");
        long previous = 0;
        for (int i = 0; i < LE.length; i++) {
            PrometheusText.Sample b = buckets.get(i);
            assertEquals(LE[i], b.labels().get("le"), what + " bucket " + i);
            assertEquals(Map.of("mode", mode, "result", result, "le", LE[i]), b.labels());
            assertTrue(b.value() >= previous, () -> what + " buckets are cumulative: " + buckets);
            previous = (long) b.value();
        }
        double total = m.value(HISTOGRAM + "_count", "mode", mode, "result", result);
        assertEquals(count, total, what + " _count");
        assertEquals(total, buckets.getLast().value(), what + " +Inf == _count");
        double sum = m.value(HISTOGRAM + "_sum", "mode", mode, "result", result);
        if (count > 0) {
            assertTrue(sum > 0 && sum < count * 10.0, what + " _sum " + sum);
        } else {
            assertEquals(0, sum, what + " _sum");
        }
    }

    @Test
    void theSpoolGaugesHoldTheExactRecordsUntilTheTargetAppearsAndDrains() throws Exception {
        LineReceiver b = new LineReceiver();
        int port = b.port();
        try (Nodes nodes = new Nodes(transport); b) {
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + port));
            SdtClient client = nodes.client(server, bld -> bld.forward(Direction.LOCAL,
                    "127.0.0.1:0:127.0.0.1:" + port + ",push"));
            // B is away, its port held (the admin servers below bind port 0); it comes back on it below.
            // (Away only now: a listener bound to port 0 before this could have been given B's port.)
            b.away();
            InetSocketAddress serverAdmin = admin(NodeView.of(server));
            InetSocketAddress clientAdmin = admin(NodeView.of(client));
            PrometheusText before = scrape(serverAdmin);
            assertEquals("gauge", before.types.get("sdt_push_spool_bytes"));
            assertEquals("gauge", before.types.get("sdt_push_spool_records"));
            assertEquals(0, before.value("sdt_push_spool_bytes"));
            assertEquals(0, before.value("sdt_push_spool_records"));

            int records = 40;
            long bytes = produce(client, records);
            Await.until("all records in the egress spool", Duration.ofSeconds(20),
                    () -> scrape(serverAdmin).value("sdt_push_spool_records") == records);
            PrometheusText held = scrape(serverAdmin);
            assertEquals(bytes, held.value("sdt_push_spool_bytes"), "every byte of every record, newline included");
            assertEquals(records, held.value("sdt_push_spool_records"));
            assertEquals(0, held.value("sdt_push_overflows_total"), "nothing dropped");
            assertEquals(0, scrape(clientAdmin).value("sdt_push_spool_bytes"), "the ingress has no egress spool");
            assertHistogram(scrape(clientAdmin), "push", "ok", 1);

            b.start(port);
            Await.until("B has every record", Duration.ofSeconds(30), () -> b.total.get() == records);
            Await.until("the spool drained", Duration.ofSeconds(10), () -> {
                PrometheusText m = scrape(serverAdmin);
                return m.value("sdt_push_spool_bytes") == 0 && m.value("sdt_push_spool_records") == 0;
            });
            assertEquals(records, b.lines.size(), "each record once");
        }
    }

    @Test
    void theSpoolGaugesGiveBackWhatAClosedPushChannelHeld() throws Exception {
        LineReceiver b = new LineReceiver();
        int port = b.port();
        try (Nodes nodes = new Nodes(transport)) {
            SdtServer server = nodes.server(bld -> bld.allowTarget("127.0.0.1:" + port));
            SdtClient client = nodes.client(server, bld -> bld.forward(Direction.LOCAL,
                    "127.0.0.1:0:127.0.0.1:" + port + ",push"));
            b.away(); // B never comes back (away only once the nodes hold their ports)
            InetSocketAddress serverAdmin = admin(NodeView.of(server));
            int records = 7;
            long bytes = produce(client, records);
            Await.until("all records in the egress spool", Duration.ofSeconds(20),
                    () -> scrape(serverAdmin).value("sdt_push_spool_records") == records);
            assertEquals(bytes, scrape(serverAdmin).value("sdt_push_spool_bytes"));

            client.close(); // the link goes, and the egress releases its spool
            Await.until("the spool gauges are back at 0", Duration.ofSeconds(20), () -> {
                PrometheusText m = scrape(serverAdmin);
                return m.value("sdt_push_spool_bytes") == 0 && m.value("sdt_push_spool_records") == 0;
            });
        }
    }

    /** Writes {@code records} newline-terminated records of different lengths into the push tunnel; returns their bytes. */
    private static long produce(SdtClient client, int records) throws Exception {
        long bytes = 0;
        try (Socket s = new Socket()) {
            s.connect(client.tunnels().get(0).boundAddress(), 5000);
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < records; i++) {
                byte[] r = ("record " + i + " " + "z".repeat(i * 3) + "\n").getBytes(StandardCharsets.UTF_8);
                out.write(r);
                bytes += r.length;
            }
            out.flush();
        }
        return bytes;
    }
}
