package io.sdt.core;

import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.TunnelSpec;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A customer that writes its request and shuts its output at once ({@code printf ... | nc -N}, a log shipper
 * that sends one batch): the listener's node may get its data and its FIN before the accepted socket reaches
 * the link's loop, and epoll and io_uring read such a socket as soon as it is registered. Every byte must still
 * reach the target, through -L and -R, on every transport, when the listener accepts on a loop other than the
 * link's (a server's -R always may; a client with more than one thread may).
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HalfClosedCustomerIT {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Transport t : Transport.values()) {
            for (TunnelSpec.Direction d : TunnelSpec.Direction.values()) {
                out.add(Arguments.of(t, d));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void aRequestSentWithItsFinArrivesWhole(Transport transport, TunnelSpec.Direction direction) throws Exception {
        assumeTrue(transport.isAvailable(), transport + " is not available here");
        ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        try (Nodes nodes = new Nodes(transport); Targets target = new Targets(s -> {
            byte[] got = s.getInputStream().readAllBytes();
            seen.add(new String(got, StandardCharsets.UTF_8));
            s.getOutputStream().write(got);
            s.shutdownOutput();
        })) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + target.port()).allowBind("127.0.0.1:*")
                    .threads(2));
            SdtClient client = nodes.client(server, b -> b.threads(2)
                    .forward(direction, "127.0.0.1:0:127.0.0.1:" + target.port()));
            InetSocketAddress at = client.tunnels().get(0).awaitBound(Duration.ofSeconds(10));
            assertNotNull(at);
            int n = 200;
            List<String> lost = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String request = "request " + i + " sent with its FIN\n";
                String reply = oneShot(at, request);
                if (!request.equals(reply)) {
                    lost.add(i + ": got '" + reply + "'");
                }
            }
            assertEquals(List.of(), lost, "replies that were not the request (the target saw "
                    + seen.stream().filter(String::isEmpty).count() + " empty requests of " + seen.size() + ")");
        }
    }

    /**
     * The same customers towards a target the server's policy refuses: each gets its connection closed with
     * nothing, and the request it sent ahead (read at its FIN, held for the answer) is freed, not leaked.
     */
    @ParameterizedTest
    @MethodSource("transports")
    void aRefusedRequestSentWithItsFinIsFreed(Transport transport) throws Exception {
        assumeTrue(transport.isAvailable(), transport + " is not available here");
        try (Nodes nodes = new Nodes(transport); Targets target = Targets.echo()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + (target.port() == 9 ? 10 : 9)));
            SdtClient client = nodes.client(server, b -> b.forward(TunnelSpec.Direction.LOCAL,
                    "127.0.0.1:0:127.0.0.1:" + target.port()));
            InetSocketAddress at = client.tunnels().get(0).awaitBound(Duration.ofSeconds(10));
            for (int i = 0; i < 50; i++) {
                String reply;
                try {
                    reply = oneShot(at, "refused request " + i + "\n");
                } catch (java.net.SocketException e) {
                    reply = ""; // closed with the request unread: the kernel resets instead of a FIN
                }
                assertEquals("", reply, "nothing comes back from a refusal");
            }
            assertEquals(0, target.accepted(), "the target was never reached");
        }
    }

    static Stream<Transport> transports() {
        return Stream.of(Transport.values());
    }

    /** Connects, writes {@code request}, shuts the output at once, reads everything back. */
    private static String oneShot(InetSocketAddress at, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 5_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
