package io.sdt.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain TCP relay on loopback whose replies (upstream to downstream) can be held back: while held, what
 * the upstream sends is read and kept until {@link #release()}, while the other direction flows. Between a
 * client and its server it stands for a path whose return trip is slow, so a test can see what a node does
 * before an answer arrives, without a clock.
 */
public final class HoldingRelay implements AutoCloseable {

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Object gate = new Object();
    private final AtomicLong heldBytes = new AtomicLong();
    private boolean holding;

    public HoldingRelay(InetSocketAddress upstream) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket down = server.accept();
                    threads.execute(() -> relay(down, upstream));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void relay(Socket down, InetSocketAddress upstream) {
        try (down; Socket up = new Socket()) {
            up.connect(upstream, 5000);
            var replies = threads.submit(() -> pump(up.getInputStream(), down.getOutputStream(), true));
            pump(down.getInputStream(), up.getOutputStream(), false);
            replies.get();
        } catch (Exception e) {
            // one side went away
        }
    }

    private Void pump(InputStream in, OutputStream out, boolean replies) throws IOException, InterruptedException {
        byte[] buf = new byte[16 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
            if (replies) {
                awaitRelease(n);
            }
            out.write(buf, 0, n);
        }
        return null;
    }

    private void awaitRelease(int n) throws InterruptedException {
        synchronized (gate) {
            if (!holding) {
                return;
            }
            heldBytes.addAndGet(n);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // never hold a test's link for ever
            while (holding && System.nanoTime() < deadline) {
                gate.wait(1000);
            }
        }
    }

    /** From now on the upstream's bytes wait in the relay. */
    public void holdReplies() {
        synchronized (gate) {
            holding = true;
        }
    }

    /** Held bytes go on, and so does everything after them. */
    public void release() {
        synchronized (gate) {
            holding = false;
            gate.notifyAll();
        }
    }

    /** Bytes the upstream sent that were held (each read counted once, when it was held). */
    public long heldBytes() {
        return heldBytes.get();
    }

    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        release();
        server.close();
        threads.shutdownNow();
    }
}
