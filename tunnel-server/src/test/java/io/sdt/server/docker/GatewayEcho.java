package io.sdt.server.docker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The targets of the Docker test, in the test JVM: a TCP echo (half-closes after the peer's EOF) and
 * a UDP echo, both on the Docker network's gateway address, where the server container reaches the
 * host. Records which addresses connected and sent, to show the traffic came out of the server
 * container. Port 0, read back.
 */
final class GatewayEcho implements AutoCloseable {

    private final ServerSocket tcp;
    private final DatagramSocket udp;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Set<InetAddress> tcpPeers = ConcurrentHashMap.newKeySet();
    private final Set<InetAddress> udpPeers = ConcurrentHashMap.newKeySet();

    GatewayEcho(InetAddress address) throws IOException {
        tcp = new ServerSocket();
        tcp.bind(new InetSocketAddress(address, 0));
        udp = new DatagramSocket(new InetSocketAddress(address, 0));
        threads.execute(this::acceptLoop);
        threads.execute(this::udpLoop);
    }

    int tcpPort() {
        return tcp.getLocalPort();
    }

    int udpPort() {
        return udp.getLocalPort();
    }

    Set<InetAddress> tcpPeers() {
        return Set.copyOf(tcpPeers);
    }

    Set<InetAddress> udpPeers() {
        return Set.copyOf(udpPeers);
    }

    private void acceptLoop() {
        while (!tcp.isClosed()) {
            try {
                Socket s = tcp.accept();
                tcpPeers.add(s.getInetAddress());
                threads.execute(() -> echo(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void echo(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
        } catch (IOException ignored) {
            // the tunnel went away; the test asserts on what came back
        }
    }

    private void udpLoop() {
        byte[] buf = new byte[65_535];
        while (!udp.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                udp.receive(p);
                udpPeers.add(p.getAddress());
                byte[] copy = Arrays.copyOf(p.getData(), p.getLength());
                udp.send(new DatagramPacket(copy, copy.length, p.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        tcp.close();
        udp.close();
        threads.shutdownNow();
    }
}
