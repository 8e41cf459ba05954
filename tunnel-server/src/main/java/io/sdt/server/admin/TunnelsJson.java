package io.sdt.server.admin;

import io.sdt.codec.HostPort;
import io.sdt.core.tunnel.Tunnel;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Writes {@code /tunnels}: a JSON array with one object per tunnel (id, spec label, direction, mode,
 * bound address, a remote tunnel's {@code listeners} by server, active channels, last error, counters with
 * the payload bytes each way). Holds no secret: the token and proxy
 * credentials are not part of a tunnel.
 */
final class TunnelsJson {

    private TunnelsJson() {
    }

    static String write(List<Tunnel> tunnels) {
        StringBuilder b = new StringBuilder(128 + 512 * tunnels.size()).append('[');
        for (int i = 0; i < tunnels.size(); i++) {
            Tunnel t = tunnels.get(i);
            InetSocketAddress bound = t.boundAddress();
            b.append(i == 0 ? "\n  {" : ",\n  {");
            field(b, "id").append(t.id()).append(',');
            field(b, "tunnel");
            string(b, t.spec().label()).append(',');
            field(b, "direction");
            string(b, TunnelMode.direction(t.spec())).append(',');
            field(b, "mode");
            string(b, TunnelMode.of(t.spec())).append(',');
            field(b, "bound");
            string(b, bound == null ? null : HostPort.of(bound).toString()).append(',');
            java.util.Map<String, InetSocketAddress> on = t.listeners();
            if (!on.isEmpty()) { // a remote tunnel: its listener on each server that bound it
                field(b, "listeners").append('{');
                int j = 0;
                for (var e : on.entrySet()) {
                    string(b.append(j++ == 0 ? "" : ","), e.getKey()).append(':');
                    string(b, HostPort.of(e.getValue()).toString());
                }
                b.append("},");
            }
            field(b, "activeChannels").append(t.activeChannels()).append(',');
            field(b, "lastError");
            string(b, t.lastError()).append(',');
            field(b, "counters").append('{');
            field(b, "channelsOpened").append(t.channelsOpened()).append(',');
            field(b, "channelsRejected").append(t.channelsRejected()).append(',');
            field(b, "datagramsIn").append(t.datagramsIn()).append(',');
            field(b, "datagramsOut").append(t.datagramsOut()).append(',');
            field(b, "datagramsDropped").append(t.datagramsDropped()).append(',');
            field(b, "tuplesEvicted").append(t.tuplesEvicted()).append(',');
            field(b, "tuplesExpired").append(t.tuplesExpired()).append(',');
            field(b, "tuples").append(t.tupleCount()).append(',');
            field(b, "strangersDropped").append(t.strangersDropped()).append(',');
            field(b, "bytesToLink").append(t.bytesToLink()).append(',');
            field(b, "bytesFromLink").append(t.bytesFromLink());
            b.append("}}");
        }
        return b.append(tunnels.isEmpty() ? "]\n" : "\n]\n").toString();
    }

    private static StringBuilder field(StringBuilder b, String name) {
        return string(b, name).append(':');
    }

    /** A JSON string (RFC 8259 escaping) or {@code null}. */
    static StringBuilder string(StringBuilder b, String s) {
        if (s == null) {
            return b.append("null");
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}
