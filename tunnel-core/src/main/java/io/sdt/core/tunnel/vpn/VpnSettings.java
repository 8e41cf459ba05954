package io.sdt.core.tunnel.vpn;

import io.sdt.codec.IpPrefix;

import java.util.List;

/**
 * The VPN's validated settings, one record per side. The server's {@code --vpn CIDR} pools (at most one
 * IPv4 and one IPv6; the first host address of each is the server's own on its TUN device), its
 * {@code --vpn-route} networks (what clients may send to through it: deny by default) and its device; the
 * client's wished-for addresses ({@code --vpn ADDR/PREFIX}, none: the server chooses), its own
 * {@code --vpn-route} list (none: install what the server offers) and its device.
 */
public final class VpnSettings {

    /** The TUN device a node creates when none is named ({@code --vpn-dev}). */
    public static final String DEFAULT_DEVICE = "sdt0";
    /**
     * The VPN's MTU. The link is a TCP stream, so no per-packet encapsulation comes off it (WireGuard's
     * 1420 is 1500 less its UDP encapsulation): inside it is the Ethernet MTU of the networks the packets
     * come from and go to, and nothing needs fragmenting where they leave the server.
     */
    public static final int DEFAULT_MTU = 1500;

    private VpnSettings() {
    }

    /**
     * @param pools  one IPv4 and/or one IPv6 network the clients' addresses come from
     * @param routes networks clients may reach through the server (pushed to them); the pools themselves
     *               (client to client) only if a route covers them
     * @param device the server's TUN device
     * @param mtu    the VPN's MTU, told to every client
     */
    public record Server(List<IpPrefix> pools, List<IpPrefix> routes, String device, int mtu) {
        public Server {
            pools = List.copyOf(pools);
            routes = List.copyOf(routes);
            if (pools.isEmpty() || pools.size() > 2 || pools.stream().filter(IpPrefix::ipv6).count() > 1
                    || pools.stream().filter(p -> !p.ipv6()).count() > 1) {
                throw new IllegalArgumentException("--vpn: one IPv4 and/or one IPv6 network, got " + pools);
            }
            for (IpPrefix p : pools) {
                int hostBits = (p.ipv6() ? 128 : 32) - p.length();
                if (hostBits < 2) {
                    throw new IllegalArgumentException("--vpn " + p + ": the network needs room for the server and "
                            + "at least one client (at most /30 for IPv4, /126 for IPv6)");
                }
            }
            if (mtu < 1280 || mtu > 65535) {
                throw new IllegalArgumentException("vpn mtu must be between 1280 and 65535, got " + mtu);
            }
            device = device == null ? DEFAULT_DEVICE : device;
        }
    }

    /**
     * @param addresses the addresses the client asks for (empty: the server chooses)
     * @param routes    the routes to install (empty: the ones the server offers)
     * @param device    the client's TUN device
     */
    public record Client(List<IpPrefix> addresses, List<IpPrefix> routes, String device) {
        public Client {
            addresses = List.copyOf(addresses);
            routes = List.copyOf(routes);
            if (addresses.size() > 2 || addresses.stream().filter(IpPrefix::ipv6).count() > 1
                    || addresses.stream().filter(p -> !p.ipv6()).count() > 1) {
                throw new IllegalArgumentException("--vpn: at most one IPv4 and one IPv6 address, got " + addresses);
            }
            device = device == null ? DEFAULT_DEVICE : device;
        }
    }
}
