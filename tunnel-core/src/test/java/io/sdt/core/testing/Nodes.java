package io.sdt.core.testing;

import io.sdt.core.ServerConfig;
import io.sdt.core.ClientConfig;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.link.Token;
import io.sdt.core.transport.Transport;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starts servers and clients on loopback (port 0) for a test and closes them all afterwards. */
public final class Nodes implements AutoCloseable {

    public final String token = Token.generate();
    private final Deque<AutoCloseable> open = new ArrayDeque<>();
    private final Transport transport;

    public Nodes() {
        this(Transport.select("auto"));
    }

    public Nodes(Transport transport) {
        this.transport = transport;
    }

    public SdtServer server(Consumer<ServerConfig.Builder> customize) throws Exception {
        ServerConfig.Builder b = SdtServer.builder().listen("127.0.0.1", 0).token(token).transport(transport);
        customize.accept(b);
        SdtServer s = b.build();
        open.push(s);
        return s.start();
    }

    /** A client of {@code server} with fast reconnects, started and (unless told otherwise) up. */
    public SdtClient client(SdtServer server, Consumer<ClientConfig.Builder> customize) throws Exception {
        return client(server.address().getPort(), customize, true);
    }

    public SdtClient client(int serverPort, Consumer<ClientConfig.Builder> customize, boolean awaitUp) throws Exception {
        ClientConfig.Builder b = SdtClient.builder().server("127.0.0.1", serverPort).token(token).transport(transport)
                .reconnect(Duration.ofMillis(50), Duration.ofMillis(500));
        customize.accept(b);
        SdtClient c = b.build();
        open.push(c);
        c.start();
        if (awaitUp) {
            assertTrue(c.awaitUp(Duration.ofSeconds(10)), "link did not come up");
        }
        return c;
    }

    @Override
    public void close() throws Exception {
        while (!open.isEmpty()) {
            open.pop().close();
        }
    }
}
