package io.sdt.core.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A log receiver (B) for push tests: counts every line it reads, per line text, and every
 * connection. It can stop gracefully (FIN, then read until the sender's FIN, then close), be away
 * while keeping its port, and start again on the same port.
 */
public final class LineReceiver implements AutoCloseable {

    public final Map<String, AtomicInteger> lines = new ConcurrentHashMap<>();
    public final AtomicLong total = new AtomicLong();
    public final AtomicInteger connections = new AtomicInteger();
    /** Connections whose reader has not finished yet. */
    public final AtomicInteger open = new AtomicInteger();
    private volatile ServerSocket server;
    private volatile Socket current;
    /** The thread accepting on {@link #server}; the listener's descriptor is released only once it has left accept. */
    private Thread accepter;
    /** While away: a socket bound to the port and not listening, so connects are refused and nobody else gets it. */
    private Socket hold;
    private int port;

    public LineReceiver() throws IOException {
        start(0);
    }

    public synchronized void start(int onPort) throws IOException {
        if (hold != null) {
            hold.close();
            hold = null;
        }
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
        port = s.getLocalPort();
        server = s;
        accepter = Thread.ofVirtual().start(() -> {
            while (!s.isClosed()) {
                try {
                    Socket c = s.accept();
                    connections.incrementAndGet();
                    open.incrementAndGet();
                    current = c;
                    Thread.ofVirtual().start(() -> read(c));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void read(Socket c) {
        try (c; BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.computeIfAbsent(line, k -> new AtomicInteger()).incrementAndGet();
                total.incrementAndGet();
            }
        } catch (IOException ignored) {
            // the connection ended
        } finally {
            open.decrementAndGet();
        }
    }

    /** Stops accepting and ends the current connection gracefully: our FIN first, then drain. */
    public synchronized void stopGracefully() throws IOException {
        server.close();
        Socket c = current;
        if (c != null) {
            c.shutdownOutput();
        }
    }

    /**
     * B is away: closes the listener and the current connection, and holds the port with a bound socket that
     * does not listen, so a sender is refused, while a listener bound to port 0 meanwhile (an admin server, a
     * test's next target) or a connect's own ephemeral port cannot be given this one. {@link #start} takes it
     * back.
     */
    public synchronized void away() throws IOException, InterruptedException {
        close();
        // the listener's descriptor is closed by its accepting thread on the way out of accept
        if (!accepter.join(Duration.ofSeconds(5))) {
            throw new IOException("the accepting thread of port " + port + " did not end");
        }
        Socket h = new Socket();
        h.setReuseAddress(true);
        h.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        hold = h;
    }

    public int port() {
        return port;
    }

    @Override
    public synchronized void close() throws IOException {
        if (hold != null) {
            hold.close();
            hold = null;
        }
        server.close();
        Socket c = current;
        if (c != null) {
            c.close();
        }
    }
}
