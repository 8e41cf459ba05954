package io.sdt.core.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A log receiver (B) for push tests: counts every line it reads, per line text, and every
 * connection. It can stop gracefully (FIN, then read until the sender's FIN, then close) and start
 * again on the same port.
 */
public final class LineReceiver implements AutoCloseable {

    public final Map<String, AtomicInteger> lines = new ConcurrentHashMap<>();
    public final AtomicLong total = new AtomicLong();
    public final AtomicInteger connections = new AtomicInteger();
    /** Connections whose reader has not finished yet. */
    public final AtomicInteger open = new AtomicInteger();
    private volatile ServerSocket server;
    private volatile Socket current;
    private int port;

    public LineReceiver() throws IOException {
        start(0);
    }

    public synchronized void start(int onPort) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
        port = s.getLocalPort();
        server = s;
        Thread.ofVirtual().start(() -> {
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

    public int port() {
        return port;
    }

    @Override
    public synchronized void close() throws IOException {
        server.close();
        Socket c = current;
        if (c != null) {
            c.close();
        }
    }
}
