import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Idle connections for benchmarks/e2e/footprint.sh, run with `java IdleConnections.java` (JDK only).
 *
 * <pre>
 * java IdleConnections.java serve PORT
 *     a target on 127.0.0.1:PORT that echoes the first byte of every connection and then holds it
 *     open until the client closes it
 * java IdleConnections.java hold PORT N
 *     opens N connections to 127.0.0.1:PORT one after the other, each writes one byte and waits for
 *     its echo (so every one reached the target through the tunnel), then prints
 *     "held N failed F" and keeps them open until its standard input ends or it is killed
 * </pre>
 */
public final class IdleConnections {

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("serve")) {
            serve(Integer.parseInt(args[1]));
        } else if (args.length == 3 && args[0].equals("hold")) {
            hold(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        } else {
            System.err.println("usage: IdleConnections serve PORT | hold PORT N");
            System.exit(2);
        }
    }

    private static void serve(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
            while (true) {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        InputStream in = s.getInputStream();
                        int b = in.read();
                        if (b >= 0) {
                            s.getOutputStream().write(b);
                            in.transferTo(OutputStream.nullOutputStream());
                        }
                    } catch (IOException ignored) {
                        // the client went away
                    }
                });
            }
        }
    }

    private static void hold(int port, int n) throws IOException {
        List<Socket> held = new ArrayList<>(n);
        int failed = 0;
        InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            try {
                s.setSoTimeout(10_000);
                s.connect(to, 10_000);
                s.getOutputStream().write('x');
                if (s.getInputStream().read() != 'x') {
                    throw new IOException("no echo");
                }
                held.add(s);
            } catch (IOException e) {
                failed++;
                s.close();
            }
        }
        System.out.println("held " + held.size() + " failed " + failed);
        System.out.flush();
        System.in.transferTo(OutputStream.nullOutputStream());
        for (Socket s : held) {
            s.close();
        }
    }
}
