import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.LongAdder;

/**
 * Connection-setup load for benchmarks/e2e/connect.sh, run with `java ConnectRate.java` (JDK only).
 *
 * <pre>
 * java ConnectRate.java serve PORT [request]
 *     a target on 127.0.0.1:PORT that writes one byte to every connection (with "request": once it has
 *     read the client's byte, as a server does that waits for its client to speak first, HTTP or TLS)
 *     and closes it after the client has closed
 * java ConnectRate.java load (direct|socks5) PROXY_PORT TARGET_PORT WORKERS SECONDS [request]
 *     WORKERS threads, each in a loop: connect (to PROXY_PORT, which is the target itself or a tunnel's
 *     entry to it, or to a SOCKS5 proxy there and CONNECT 127.0.0.1:TARGET_PORT through it), with
 *     "request" write one byte, read the target's byte, close. Prints one line:
 *     "connects_per_s N ok N failed N ms_per_connect M" (M: the workers' mean time per connection).
 * </pre>
 */
public final class ConnectRate {

    public static void main(String[] args) throws Exception {
        boolean request = args.length > 0 && args[args.length - 1].equals("request");
        int n = request ? args.length - 1 : args.length;
        if (n == 2 && args[0].equals("serve")) {
            serve(Integer.parseInt(args[1]), request);
        } else if (n == 6 && args[0].equals("load")) {
            load(args[1].equals("socks5"), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Integer.parseInt(args[5]), request);
        } else {
            System.err.println("usage: ConnectRate serve PORT [request] | load (direct|socks5) PROXY_PORT TARGET_PORT"
                    + " WORKERS SECONDS [request]");
            System.exit(2);
        }
    }

    private static void serve(int port, boolean request) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
            while (true) {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        // write the byte, then wait for the client to close first: the client's side
                        // keeps the TIME_WAIT (a target that closed first would pile them up on its own
                        // port and make reused client ports fail with resets after ~28,000 connects)
                        if (request && s.getInputStream().read() < 0) {
                            return;
                        }
                        s.getOutputStream().write('x');
                        s.getInputStream().transferTo(OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                        // the client went away first
                    }
                });
            }
        }
    }

    private static void load(boolean socks, int proxyPort, int targetPort, int workers, int seconds,
                             boolean request) throws InterruptedException {
        LongAdder ok = new LongAdder();
        LongAdder failed = new LongAdder();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        Thread[] threads = new Thread[workers];
        for (int i = 0; i < workers; i++) {
            threads[i] = Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < end) {
                    try {
                        once(socks, proxyPort, targetPort, request);
                        ok.increment();
                    } catch (IOException e) {
                        failed.increment();
                        if (failed.sum() <= 3) {
                            System.err.println("connect failed: " + e);
                        }
                    }
                }
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        System.out.printf("connects_per_s %.1f ok %d failed %d ms_per_connect %.2f%n", ok.sum() / (double) seconds,
                ok.sum(), failed.sum(), ok.sum() == 0 ? 0.0 : workers * seconds * 1000.0 / ok.sum());
    }

    private static final byte[] GREETING = {5, 1, 0};

    private static void once(boolean socks, int proxyPort, int targetPort, boolean request) throws IOException {
        try (Socket s = new Socket()) {
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort), 10_000);
            OutputStream out = s.getOutputStream();
            InputStream raw = s.getInputStream();
            if (socks) {
                DataInputStream in = new DataInputStream(raw);
                out.write(GREETING);
                byte[] method = new byte[2];
                in.readFully(method);
                if (method[1] != 0) {
                    throw new IOException("SOCKS5 method " + method[1]);
                }
                out.write(new byte[] {5, 1, 0, 1, 127, 0, 0, 1, (byte) (targetPort >> 8), (byte) targetPort});
                byte[] reply = new byte[10];
                in.readFully(reply);
                if (reply[1] != 0) {
                    throw new IOException("SOCKS5 reply " + reply[1]);
                }
            }
            if (request) {
                out.write('q');
            }
            if (raw.read() != 'x') {
                throw new IOException("no byte from the target");
            }
        }
    }
}
