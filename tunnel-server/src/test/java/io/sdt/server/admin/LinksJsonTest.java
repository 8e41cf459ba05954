package io.sdt.server.admin;

import io.sdt.codec.IpPrefix;
import io.sdt.core.LinkView;
import io.sdt.core.tunnel.vpn.VpnPeerView;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The JSON of /links and /vpn parses and says what the views hold, escaping included. */
class LinksJsonTest {

    @Test
    void vpnPeersWithTheirAddresses() {
        String json = LinksJson.vpn(true, List.of(
                new VpnPeerView("0a1b2c3d", List.of(IpPrefix.parse("10.8.0.2/24"), IpPrefix.parse("fd00::2/64")),
                        "link-3 198.51.100.7:41000", 1_700_000_000_000L),
                new VpnPeerView(null, List.of(), "link-\"4\"", 0)));
        Map<?, ?> v = (Map<?, ?>) Json.parse(json);
        assertEquals(true, v.get("enabled"));
        List<?> peers = (List<?>) v.get("peers");
        Map<?, ?> first = (Map<?, ?>) peers.get(0);
        assertEquals("0a1b2c3d", first.get("client"));
        assertEquals(List.of("10.8.0.2/24", "fd00::2/64"), first.get("addresses"));
        assertEquals("2023-11-14T22:13:20Z", first.get("since"));
        Map<?, ?> second = (Map<?, ?>) peers.get(1);
        assertEquals(null, second.get("client"));
        assertEquals("link-\"4\"", second.get("link"));
        assertEquals(null, second.get("since"), "not admitted: no time");
        assertEquals(Map.of("enabled", false, "peers", List.of()), Json.parse(LinksJson.vpn(false, List.of())));
    }

    @Test
    void linksUpAndDown() {
        String json = LinksJson.write("client", 2, List.of(
                new LinkView("a.example:7000", "192.0.2.1:7000", true, 1_700_000_000_000L, 1234, 3, null),
                new LinkView("b.example:7000", null, false, 1_700_000_001_000L, -1, 0, "connection refused")));
        Map<?, ?> v = (Map<?, ?>) Json.parse(json);
        assertEquals("client", v.get("role"));
        assertEquals(2L, v.get("linksWanted"));
        List<?> links = (List<?>) v.get("links");
        Map<?, ?> up = (Map<?, ?>) links.get(0);
        assertEquals(List.of("server", "peer", "up", "since", "sinceMillis", "rttMicros", "channels", "problem"),
                List.copyOf(up.keySet()));
        assertEquals("2023-11-14T22:13:20Z", up.get("since"));
        assertEquals(3L, up.get("channels"));
        assertEquals(null, up.get("problem"));
        assertEquals(1234L, ((Map<?, ?>) links.get(0)).get("rttMicros"));
        assertEquals("connection refused", ((Map<?, ?>) links.get(1)).get("problem"));
        assertEquals(false, ((Map<?, ?>) links.get(1)).get("up"));
    }
}
