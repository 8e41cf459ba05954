package io.sdt.core.testing;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A transfer through an echo tunnel that is still in flight when the test changes something (a
 * reload, a drain): it sends {@code half} random bytes, waits for {@code gate}, sends {@code half}
 * more and half-closes. {@code halfway} opens once the first half has come back, so the channel is
 * surely open. The future completes true if the whole echo came back byte-identical.
 */
public final class GatedTransfer {

    private GatedTransfer() {
    }

    public static Future<Boolean> start(ExecutorService threads, InetSocketAddress at, int half, long seed,
                                        CountDownLatch halfway, CountDownLatch gate) {
        return threads.submit(() -> {
            try (Socket s = new Socket()) {
                s.connect(at, 5000);
                s.setSoTimeout(60_000);
                MessageDigest sent = Payloads.sha256();
                Future<byte[]> echo = threads.submit(() -> {
                    MessageDigest got = Payloads.sha256();
                    byte[] buf = new byte[64 * 1024];
                    long total = 0;
                    InputStream in = s.getInputStream();
                    for (int n; (n = in.read(buf)) > 0; ) {
                        got.update(buf, 0, n);
                        total += n;
                        if (total == half) {
                            halfway.countDown();
                        }
                    }
                    assertEquals(2L * half, total, "echoed bytes");
                    return got.digest();
                });
                OutputStream out = s.getOutputStream();
                Random r = new Random(seed);
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < 2 * half / chunk.length; i++) {
                    if (i == half / chunk.length) {
                        assertTrue(gate.await(90, TimeUnit.SECONDS), "gate");
                    }
                    r.nextBytes(chunk);
                    sent.update(chunk);
                    out.write(chunk);
                }
                s.shutdownOutput();
                assertArrayEquals(sent.digest(), echo.get(60, TimeUnit.SECONDS), "SHA-256 of the echo");
                return true;
            }
        });
    }
}
