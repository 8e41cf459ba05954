package io.sdt.server.admin;

import io.sdt.codec.HostPort;
import io.sdt.core.transport.Transport;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admin endpoints started for a test on loopback port 0, an HTTP client for them, and their cleanup. */
final class Admins implements AutoCloseable {

    private final Transport transport;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AdminServer> started = new ArrayList<>();

    Admins(Transport transport) {
        this.transport = transport;
    }

    /** Starts an admin endpoint for {@code node}; returns where it listens. */
    InetSocketAddress start(NodeView node) {
        AdminServer a = new AdminServer(new HostPort("127.0.0.1", 0), transport, node);
        started.add(a);
        InetSocketAddress at = a.start();
        assertTrue(at.getPort() > 0, "port 0 was replaced by the bound port");
        return at;
    }

    HttpResponse<String> send(InetSocketAddress at, String method, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        started.forEach(AdminServer::close);
        http.close();
    }
}
