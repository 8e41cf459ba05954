package io.sdt.core.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP target on 127.0.0.1, port 0: every accepted connection is handed to a {@link Behaviour} on
 * its own virtual thread. Counts accepted connections. Close it to stop.
 */
public final class Targets implements AutoCloseable {

    /** What the target does with one connection; the socket is closed afterwards. */
    @FunctionalInterface
    public interface Behaviour {
        void serve(Socket socket) throws IOException;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger accepted = new AtomicInteger();

    public Targets(Behaviour behaviour) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    threads.execute(() -> {
                        try (s) {
                            behaviour.serve(s);
                        } catch (IOException ignored) {
                            // the tunnel side went away; the test asserts on what it saw
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    /** Echoes everything, then half-closes after the client's EOF. */
    public static Targets echo() throws IOException {
        return new Targets(s -> {
            byte[] buf = new byte[64 * 1024];
            var in = s.getInputStream();
            var out = s.getOutputStream();
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
        });
    }

    /** Writes 16 KiB every 5 ms until {@code stop} is counted down (or the connection fails). */
    public static Targets streaming(java.util.concurrent.CountDownLatch stop) throws IOException {
        return new Targets(s -> {
            var out = s.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            try {
                while (!stop.await(5, java.util.concurrent.TimeUnit.MILLISECONDS)) { // bounded by the test
                    out.write(chunk);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    public int accepted() {
        return accepted.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
