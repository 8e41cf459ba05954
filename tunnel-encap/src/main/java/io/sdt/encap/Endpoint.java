package io.sdt.encap;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** An IPv4 address (big-endian int) and a port: a peer's (saddr, sport) as the connection_store keys it. */
record Endpoint(int address, int port) {

    static Endpoint of(InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        return new Endpoint(Ipv4.toInt(ip), a.getPort());
    }

    InetSocketAddress socketAddress() {
        return new InetSocketAddress(Ipv4.toAddress(address), port);
    }

    @Override
    public String toString() {
        return Ipv4.toString(address) + ":" + port;
    }
}
