package io.sdt.core.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/** A UDP target on a loopback address: answers every datagram with {@code reply(payload)}. */
public final class UdpTarget implements AutoCloseable {

    private final DatagramSocket socket;
    private final AtomicInteger received = new AtomicInteger();
    private final Thread thread;

    public UdpTarget(InetAddress address, UnaryOperator<byte[]> reply) throws IOException {
        socket = new DatagramSocket(new InetSocketAddress(address, 0));
        socket.setReceiveBufferSize(4 << 20);
        thread = Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[65_535];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    received.incrementAndGet();
                    byte[] out = reply.apply(Arrays.copyOf(p.getData(), p.getLength()));
                    socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    public static UdpTarget echo(InetAddress address) throws IOException {
        return new UdpTarget(address, b -> b);
    }

    public int port() {
        return socket.getLocalPort();
    }

    public int received() {
        return received.get();
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5000);
    }
}
