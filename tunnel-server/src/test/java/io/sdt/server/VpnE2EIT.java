package io.sdt.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.sdt.server.NetnsLab.sh;
import static io.sdt.server.NetnsLab.sha256;
import static io.sdt.server.NetnsLab.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The L3 VPN end to end, as root, in network namespaces this test makes: a server S and clients A, B and X
 * (X with a wrong token) on a bridge in S. S offers the network 10.88.0.0/24 and fd00:88::/64 (a dummy
 * interface with an unmodified python HTTP server on each family), and also has 10.99.0.0/24, which it does
 * not offer. Unmodified curl and ping run in the clients' namespaces.
 *
 * <pre>
 *   A: sdt0 10.8.0.x fd00:8::x (granted)   va 10.77.0.2 ──┐
 *   B: sdt0 10.8.0.y, routes 10.99/24 too   vb 10.77.0.3 ──┤ bridge br0 10.77.0.1 in S: sdt server, sdt0 10.8.0.1
 *   X: wrong token                          vx 10.77.0.4 ──┘ d0 10.88.0.1 fd00:88::1 (http), d1 10.99.0.1 (http)
 * </pre>
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class VpnE2EIT {

    private static final int SIZE = 10 << 20;
    private static final String SERVER = "10.77.0.1";

    @TempDir
    Path dir;
    private NetnsLab lab;
    private String ip;

    @BeforeEach
    void preconditions() {
        String missing = NetnsLab.missing("/usr/bin/python3", "/usr/bin/curl", "/usr/bin/ping");
        assumeTrue(missing == null, missing);
        lab = new NetnsLab(dir);
        ip = lab.ip;
    }

    @AfterEach
    void removeEverythingWeMade() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void curlThroughTheVpnOnBothFamiliesOnlyWhereRoutedAndItSurvivesTheServersRestart() throws Exception {
        byte[] file = new byte[SIZE];
        new Random(7).nextBytes(file);
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("file"), file);
        Path token = Files.writeString(dir.resolve("token"), "vpn-e2e-token-" + lab.sfx + "-0123456789abcdef\n");
        Path wrong = Files.writeString(dir.resolve("wrong"), "not-the-token-" + lab.sfx + "-0123456789abcdef\n");

        String nsS = lab.namespace("sdtv-s");
        String nsA = lab.namespace("sdtv-a");
        String nsB = lab.namespace("sdtv-b");
        String nsX = lab.namespace("sdtv-x");
        sh(ip, "-n", nsS, "link", "add", "br0", "type", "bridge");
        sh(ip, "-n", nsS, "addr", "add", SERVER + "/24", "dev", "br0");
        sh(ip, "-n", nsS, "link", "set", "br0", "up");
        veth(nsS, nsA, "va", "10.77.0.2");
        veth(nsS, nsB, "vb", "10.77.0.3");
        veth(nsS, nsX, "vx", "10.77.0.4");
        for (String ns : List.of(nsS, nsA, nsB, nsX)) {
            sh(ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0");
        }
        // what the server offers (d0) and what it does not (d1), each with a web server (bridges without
        // ports: no dummy module on these machines, and a local address needs no carrier)
        sh(ip, "-n", nsS, "link", "add", "d0", "type", "bridge");
        sh(ip, "-n", nsS, "addr", "add", "10.88.0.1/24", "dev", "d0");
        sh(ip, "-n", nsS, "addr", "add", "fd00:88::1/64", "dev", "d0", "nodad");
        sh(ip, "-n", nsS, "link", "set", "d0", "up");
        sh(ip, "-n", nsS, "link", "add", "d1", "type", "bridge");
        sh(ip, "-n", nsS, "addr", "add", "10.99.0.1/24", "dev", "d1");
        sh(ip, "-n", nsS, "link", "set", "d1", "up");
        Path http4 = http(nsS, "http4", "10.88.0.1", www);
        Path http6 = http(nsS, "http6", "fd00:88::1", www);
        Path hidden = http(nsS, "http-hidden", "10.99.0.1", www);

        List<String> serverArgs = List.of("--listen", SERVER + ":7000", "--token-file", token.toString(),
                "--vpn", "10.8.0.0/24", "--vpn", "fd00:8::/64", "--vpn-route", "10.88.0.0/24",
                "--vpn-route", "fd00:88::/64", "--admin", "127.0.0.1:9090");
        NetnsLab.Started server = lab.started("server", nsS, NetnsLab.program("sdt", "server",
                serverArgs.toArray(String[]::new)));
        lab.await(server.log(), "server listening on");
        lab.await(server.log(), "VPN device sdt0 up: \\[10\\.8\\.0\\.1/24, fd00:8::1/64\\]");

        // A: the server chooses A's addresses; 10 MiB each way of family, byte-identical
        NetnsLab.Started a = lab.started("client-a", nsA, NetnsLab.program("sdt", "client", "--server", SERVER + ":7000",
                "--token-file", token.toString(), "--vpn", "--admin", "127.0.0.1:9091"));
        lab.await(a.log(), "VPN device sdt0: addresses \\[10\\.8\\.0\\.\\d+/24, fd00:8::\\w+/64\\]");
        lab.await(a.log(), "VPN device sdt0: routes"); // logged once installed, after the addresses
        String addressA = grantedV4(a.log());
        fetch(nsA, "http://10.88.0.1:8080/file", file, "-4");
        fetch(nsA, "http://[fd00:88::1]:8080/file", file, "-6");
        assertTrue(NetnsLab.count(http4, "^" + Pattern.quote(addressA) + " .*GET /file") >= 1,
                "the web server saw A's VPN address:\n" + tail(http4, 5));
        assertTrue(NetnsLab.count(http6, "^fd00:8::\\w+ .*GET /file") >= 1, "and its IPv6 one:\n" + tail(http6, 5));
        assertTrue(metric(nsS, 9090, "sdt_vpn_super_segments_total\\{direction=\"to_link\"") > 0,
                "the server's device gave TCP super-segments and they crossed the link whole");
        assertTrue(metric(nsA, 9091, "sdt_vpn_super_segments_total\\{direction=\"from_link\"") > 0,
                "and A's device took them");

        // B: another address; its own route to 10.99/24 leads nowhere: the server does not offer it
        NetnsLab.Started b = lab.started("client-b", nsB, NetnsLab.program("sdt", "client", "--server", SERVER + ":7000",
                "--token-file", token.toString(), "--vpn", "--vpn-route", "10.88.0.0/24", "--vpn-route", "10.99.0.0/24"));
        lab.await(b.log(), "VPN device sdt0: addresses \\[10\\.8\\.0\\.\\d+/24");
        lab.await(b.log(), "VPN device sdt0: routes");
        assertNotEquals(addressA, grantedV4(b.log()), "two clients, two addresses");
        String hiddenCurl = lab.in(nsB, 30, "/usr/bin/curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                "http://10.99.0.1:8080/file");
        assertEquals("000", hiddenCurl.strip(), "a network the server does not offer is unreachable");
        assertEquals(0, NetnsLab.count(hidden, "GET"), "and its web server saw nothing");
        assertTrue(metric(nsS, 9090, "sdt_vpn_drops_total\\{reason=\"not_routed\"") > 0, "counted as not routed");
        assertEquals(2, metric(nsS, 9090, "sdt_vpn_peers"), "two clients connected");

        // X: a wrong token never gets a link, so nothing of it goes through
        NetnsLab.Started x = lab.started("client-x", nsX, NetnsLab.program("sdt", "client", "--server", SERVER + ":7000",
                "--token-file", wrong.toString(), "--vpn"));
        assertTrue(x.process().waitFor(30, TimeUnit.SECONDS), "a client with a wrong token gives up");
        assertNotEquals(0, x.process().exitValue());
        assertFalse(lab.in(nsX, 10, ip, "link", "show").contains("sdt0"), "and its device is gone with it");

        // too big for the VPN, with DF set: the server answers as a router would (PMTU discovery)
        sh(ip, "-n", nsA, "link", "set", "sdt0", "mtu", "3000");
        // the client reads its device's MTU back every second: until then a large packet is cut short and
        // dropped as malformed, so ask again (bounded) until the answer comes
        String ping = "";
        for (int i = 0; i < 5 && !ping.toLowerCase().matches("(?s).*mtu ?= ?1500.*"); i++) {
            ping = lab.in(nsA, 20, "/usr/bin/ping", "-M", "do", "-s", "2000", "-c", "2", "-W", "2", "10.88.0.1");
        }
        assertTrue(ping.toLowerCase().matches("(?s).*mtu ?= ?1500.*"),
                "ICMP fragmentation needed with the VPN's MTU: " + ping);
        assertTrue(metric(nsS, 9090, "sdt_vpn_drops_total\\{reason=\"too_big\"") >= 1);
        sh(ip, "-n", nsA, "link", "set", "sdt0", "mtu", "1500");

        // the server dies and comes back: A keeps its device and address, and traffic resumes by itself
        server.process().toHandle().destroyForcibly();
        assertTrue(server.process().waitFor(10, TimeUnit.SECONDS));
        NetnsLab.Started again = lab.started("server-2", nsS, NetnsLab.program("sdt", "server",
                serverArgs.toArray(String[]::new)));
        lab.await(again.log(), "VPN client \\w+ has \\[" + Pattern.quote(addressA) + "/24", 60);
        assertTrue(lab.in(nsA, 10, ip, "addr", "show", "dev", "sdt0").contains(addressA + "/24"), "A kept its address");
        fetch(nsA, "http://10.88.0.1:8080/file", file, "-4");

        // SIGTERM: clean exits; the devices the nodes created are gone with them
        assertTrue(lab.stopAll(), "every process exits on SIGTERM");
        assertEquals(0, a.process().exitValue(), tail(a.log(), 30));
        assertFalse(lab.in(nsA, 10, ip, "link", "show").contains("sdt0"), "A's device is gone");
        assertFalse(lab.in(nsS, 10, ip, "link", "show").contains("sdt0"), "the server's device is gone");
    }

    @Test
    void withoutCapNetAdminTheVpnIsRefusedInOneLineNamingTheFlag() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "/usr/bin/setpriv (util-linux) is missing");
        Path token = Files.writeString(dir.resolve("token"), "vpn-e2e-token-" + lab.sfx + "-0123456789abcdef\n");
        String ns = lab.namespace("sdtv-c");
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/setpriv", "--bounding-set", "-net_admin"));
        cmd.addAll(NetnsLab.program("sdt", "server", "--listen", "127.0.0.1:0", "--token-file", token.toString(),
                "--vpn", "10.8.0.0/24"));
        NetnsLab.Started s = lab.started("no-cap", ns, cmd);
        assertTrue(s.process().waitFor(60, TimeUnit.SECONDS), "it stops at once");
        assertEquals(2, s.process().exitValue(), tail(s.log(), 20));
        List<String> errors = Files.readAllLines(s.log()).stream().filter(l -> l.contains("error:")).toList();
        assertEquals(1, errors.size(), "one line: " + tail(s.log(), 20));
        assertTrue(errors.get(0).contains("--vpn") && errors.get(0).contains("CAP_NET_ADMIN"), errors.get(0));
        assertFalse(lab.in(ns, 10, ip, "link", "show").contains("sdt0"), "no device left behind");
    }

    private void veth(String nsS, String ns, String name, String address) throws Exception {
        String br = "b" + name + lab.sfx;
        sh(ip, "link", "add", br, "netns", nsS, "type", "veth", "peer", "name", name, "netns", ns);
        sh(ip, "-n", nsS, "link", "set", br, "master", "br0", "up");
        sh(ip, "-n", ns, "addr", "add", address + "/24", "dev", name);
        sh(ip, "-n", ns, "link", "set", name, "up");
    }

    private Path http(String ns, String name, String bind, Path www) throws Exception {
        Path log = lab.start(name, ns, List.of("/usr/bin/python3", "-u", "-m", "http.server", "8080", "--bind", bind,
                "--directory", www.toString()));
        lab.await(log, "Serving HTTP on");
        return log;
    }

    /** curl in {@code ns} fetches {@code url}; the bytes must be {@code expected}. */
    private void fetch(String ns, String url, byte[] expected, String family) throws Exception {
        Path out = dir.resolve("out");
        Files.deleteIfExists(out);
        String curl = lab.in(ns, 120, "/usr/bin/curl", family, "-sS", "--max-time", "100", "-o", out.toString(),
                "-w", "%{http_code} %{size_download} %{speed_download}", url);
        assertTrue(curl.startsWith("200 " + expected.length + " "), "curl " + url + ": " + curl);
        assertEquals(sha256(expected), sha256(Files.readAllBytes(out)), "byte-identical: " + url);
        System.out.println("10 MiB through the VPN (" + url + "): curl reports " + curl.split(" ")[2] + " bytes/s");
    }

    private static String grantedV4(Path log) throws Exception {
        Matcher m = Pattern.compile("VPN device sdt0: addresses \\[(10\\.8\\.0\\.\\d+)/24").matcher(Files.readString(log));
        assertTrue(m.find(), tail(log, 20));
        return m.group(1);
    }

    /** The value of the first /metrics line matching {@code regex} on the admin port of {@code ns}. */
    private double metric(String ns, int port, String regex) throws Exception {
        String text = lab.in(ns, 10, "/usr/bin/curl", "-s", "http://127.0.0.1:" + port + "/metrics");
        Pattern p = Pattern.compile("^" + regex + "[^ ]* ([0-9.eE+-]+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(text);
        assertTrue(m.find(), "no metric " + regex + " in:\n" + text.lines().filter(l -> l.startsWith("sdt_vpn"))
                .reduce("", (x, y) -> x + y + "\n"));
        return Double.parseDouble(m.group(1));
    }
}
