package io.sdt.core;

import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Payloads;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stream that ends abnormally ends with a reset (RST) at the customer, never with a FIN that an
 * application without its own framing would take for the complete stream; a clean end stays a FIN.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HonestEndsIT {

    /** Reads until the stream ends; returns the bytes read, or throws what the read threw. */
    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            total += n;
        }
        return total;
    }

    private static Socket connect(InetSocketAddress at) throws IOException {
        Socket s = new Socket();
        s.connect(at, 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void aTargetThatResetsIsAResetAtTheCustomer() throws Exception {
        try (Nodes nodes = new Nodes(); Targets target = new Targets(s -> {
            s.getOutputStream().write(new byte[32 * 1024]);
            s.getInputStream().read(); // the customer's go-ahead: it has read the first bytes
            s.setSoLinger(true, 0);    // close() now sends RST
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.port()));
            try (Socket s = connect(client.tunnels().get(0).boundAddress())) {
                assertEquals(32 * 1024, s.getInputStream().readNBytes(32 * 1024).length);
                s.getOutputStream().write(1);
                SocketException e = assertThrows(SocketException.class, () -> drain(s.getInputStream()),
                        "the target's reset must not arrive as an end of stream");
                assertTrue(e.getMessage().toLowerCase().contains("reset"), e.getMessage());
            }
            assertTrue(client.isUp(), "one channel's reset leaves the link up");
        }
    }

    @Test
    void aCustomerThatResetsIsAResetAtTheTarget() throws Exception {
        CountDownLatch targetSaw = new CountDownLatch(1);
        Exception[] seen = new Exception[1];
        try (Nodes nodes = new Nodes(); Targets target = new Targets(s -> {
            s.setSoTimeout(20_000);
            try {
                OutputStream out = s.getOutputStream();
                out.write(1);
                out.flush();
                drain(s.getInputStream());
            } catch (IOException e) {
                seen[0] = e;
            } finally {
                targetSaw.countDown();
            }
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.port()));
            Socket s = connect(client.tunnels().get(0).boundAddress());
            assertEquals(1, s.getInputStream().read());
            s.setSoLinger(true, 0);
            s.close();
            assertTrue(targetSaw.await(20, TimeUnit.SECONDS));
            assertTrue(seen[0] instanceof SocketException, "target saw " + seen[0]);
        }
    }

    @Test
    void aLinkLostMidTransferIsAResetAtTheCustomer() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        try (Nodes nodes = new Nodes(); Targets target = Targets.streaming(stop)) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.port()));
            try (Socket s = connect(client.tunnels().get(0).boundAddress())) {
                assertEquals(64 * 1024, s.getInputStream().readNBytes(64 * 1024).length, "transfer under way");
                server.close(); // the link goes while the stream is mid-transfer
                assertThrows(SocketException.class, () -> drain(s.getInputStream()),
                        "a stream cut off by a lost link must not look complete");
            } finally {
                stop.countDown();
            }
        }
    }

    @Test
    void aCleanEndIsStillAnEndOfStream() throws Exception {
        try (Nodes nodes = new Nodes(); Targets target = new Targets(s -> {
            Payloads.write(s.getOutputStream(), 1 << 20, 9);
            s.shutdownOutput();
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "0:127.0.0.1:" + target.port()));
            try (Socket s = connect(client.tunnels().get(0).boundAddress())) {
                long[] n = new long[1];
                byte[] digest = Payloads.readAll(s.getInputStream(), n);
                assertEquals(1 << 20, n[0]);
                assertArrayEquals(Payloads.digestOf(1 << 20, 9), digest);
            }
        }
    }
}
