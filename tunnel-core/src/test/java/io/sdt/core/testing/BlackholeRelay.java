package io.sdt.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A plain TCP relay on loopback that can turn the connections it carries into black holes: bytes
 * are read and dropped, nothing is closed, like a network path that silently died. Connections
 * made after that are relayed normally.
 */
public final class BlackholeRelay implements AutoCloseable {

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<AtomicBoolean> live = new CopyOnWriteArrayList<>();

    public BlackholeRelay(InetSocketAddress upstream) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket down = server.accept();
                    AtomicBoolean black = new AtomicBoolean();
                    live.add(black);
                    threads.execute(() -> relay(down, upstream, black));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void relay(Socket down, InetSocketAddress upstream, AtomicBoolean black) {
        try (down; Socket up = new Socket()) {
            up.connect(upstream, 5000);
            var other = threads.submit(() -> pump(up.getInputStream(), down.getOutputStream(), black));
            pump(down.getInputStream(), up.getOutputStream(), black);
            other.get();
        } catch (Exception e) {
            // one side went away
        }
    }

    private static Void pump(InputStream in, OutputStream out, AtomicBoolean black) throws IOException {
        byte[] buf = new byte[16 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
            if (!black.get()) {
                out.write(buf, 0, n);
            }
        }
        return null;
    }

    /** Every connection relayed so far starts dropping bytes silently. */
    public void blackholeExisting() {
        live.forEach(b -> b.set(true));
    }

    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
