package io.sdt.server.admin;

import io.sdt.core.LinkView;

import java.time.Instant;
import java.util.List;

import static io.sdt.server.admin.TunnelsJson.string;

/**
 * Writes {@code /links}: the node's role and its links, each up or down, since when, its last heartbeat round
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
}
