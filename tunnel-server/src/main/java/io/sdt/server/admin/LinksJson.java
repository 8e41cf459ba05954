package io.sdt.server.admin;

import io.sdt.core.LinkView;
import io.sdt.core.tunnel.vpn.VpnPeerView;

import java.time.Instant;
import java.util.List;

import static io.sdt.server.admin.TunnelsJson.string;

/**
 * Writes {@code /links} and {@code /vpn}. {@code /links}: the node's role and its links, each up or down, since when, its last heartbeat round
 * trip and the channels it carries: {@code {"role":"client","linksWanted":2,"links":[{...}]}}.
 */
final class LinksJson {

    private LinksJson() {
    }

    static String write(String role, int wanted, List<LinkView> links) {
        StringBuilder b = new StringBuilder(96 + 192 * links.size()).append("{\"role\":");
        string(b, role).append(",\"linksWanted\":").append(wanted).append(",\"links\":[");
        for (int i = 0; i < links.size(); i++) {
            LinkView l = links.get(i);
            b.append(i == 0 ? "\n  {" : ",\n  {").append("\"server\":");
            string(b, l.server()).append(",\"peer\":");
            string(b, l.peer()).append(",\"up\":").append(l.up()).append(",\"since\":");
            string(b, l.sinceMillis() > 0 ? Instant.ofEpochMilli(l.sinceMillis()).toString() : null)
                    .append(",\"sinceMillis\":").append(l.sinceMillis())
                    .append(",\"rttMicros\":").append(l.rttMicros())
                    .append(",\"channels\":").append(l.channels()).append(",\"problem\":");
            string(b, l.problem()).append('}');
        }
        return b.append(links.isEmpty() ? "]}\n" : "\n]}\n").toString();
    }

    /**
     * {@code /vpn}: {@code {"enabled":true,"peers":[{"client","addresses":[...],"link","since","sinceMillis"}]}}; a
     * node without {@code --vpn} says {@code "enabled":false} and no peers.
     */
    static String vpn(boolean enabled, List<VpnPeerView> peers) {
        StringBuilder b = new StringBuilder(64 + 160 * peers.size()).append("{\"enabled\":").append(enabled)
                .append(",\"peers\":[");
        for (int i = 0; i < peers.size(); i++) {
            VpnPeerView p = peers.get(i);
            b.append(i == 0 ? "\n  {" : ",\n  {").append("\"client\":");
            string(b, p.client()).append(",\"addresses\":[");
            for (int j = 0; j < p.addresses().size(); j++) {
                string(b.append(j == 0 ? "" : ","), p.addresses().get(j).toString());
            }
            b.append("],\"link\":");
            string(b, p.link()).append(",\"since\":");
            string(b, p.sinceMillis() > 0 ? Instant.ofEpochMilli(p.sinceMillis()).toString() : null)
                    .append(",\"sinceMillis\":").append(p.sinceMillis()).append('}');
        }
        return b.append(peers.isEmpty() ? "]}\n" : "\n]}\n").toString();
    }
}
