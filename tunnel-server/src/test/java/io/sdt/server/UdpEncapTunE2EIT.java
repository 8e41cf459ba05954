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
import java.util.regex.Pattern;

import static io.sdt.server.NetnsLab.run;
import static io.sdt.server.NetnsLab.sh;
import static io.sdt.server.NetnsLab.sha256;
import static io.sdt.server.NetnsLab.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code udp-encap-tun} end to end, as root: three network namespaces made by this test (server S, client C,
 * wrong-secret client X) on a bridge in S. Each runs the real launcher ({@code ./udp-encap-tun}, i.e. the
 * built jar) on its own TUN. An unmodified curl in C fetches 10 MiB from an unmodified python HTTP server
 * listening on S's TUN address, through the encapsulation, byte-identical; curl in X gets nothing through.
 * Everything is removed afterwards, also on failure. Without root, ip, /dev/net/tun, python3 or curl the
 * test is skipped with the reason.
 *
 * <pre>
 *   C: tunc 10.66.0.2/32, route 10.77.0.1/32 dev tunc     vc 10.77.0.2 ──┐
 *   X: tunx 10.66.0.3/32, route 10.77.0.1/32 dev tunx     vx 10.77.0.3 ──┤ bridge br0 10.77.0.1 in S
 *   S: tuns 10.88.0.1/24 (peers get 10.88.0.x); http on 10.88.0.1:8080   ┘
 * </pre>
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class UdpEncapTunE2EIT {

    private static final int SIZE = 10 << 20;
    private static final String SERVER = "10.77.0.1";

    @TempDir
    Path dir;
    private NetnsLab lab;
    private String nsS;
    private String nsC;
    private String nsX;
    private String ip;

    @BeforeEach
    void preconditions() {
        String missing = NetnsLab.missing("/usr/bin/python3", "/usr/bin/curl");
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
    void tenMebibytesArriveIntactAndAWrongSecretGetsNothingThrough() throws Exception {
        byte[] file = new byte[SIZE];
        new Random(5).nextBytes(file);
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("file"), file);
        Path secret = Files.writeString(dir.resolve("secret"), "e2e-secret-" + lab.sfx + "-0123456789abcdef\n");
        Path wrong = Files.writeString(dir.resolve("wrong"), "not-the-secret-" + lab.sfx + "-0123456789\n");

        // the underlay: a bridge in S, one veth pair per client
        nsS = lab.namespace("sdte-s");
        nsC = lab.namespace("sdte-c");
        nsX = lab.namespace("sdte-x");
        sh(ip, "-n", nsS, "link", "add", "br0", "type", "bridge");
        sh(ip, "-n", nsS, "addr", "add", SERVER + "/24", "dev", "br0");
        sh(ip, "-n", nsS, "link", "set", "br0", "up");
        veth(nsC, "vc", "10.77.0.2");
        veth(nsX, "vx", "10.77.0.3");

        // server: a persistent TUN made with ip (the program attaches), then the program and the HTTP server
        sh(ip, "-n", nsS, "tuntap", "add", "dev", "tuns", "mode", "tun");
        sh(ip, "-n", nsS, "addr", "add", "10.88.0.1/24", "dev", "tuns");
        sh(ip, "-n", nsS, "link", "set", "tuns", "mtu", "1400", "up");
        NetnsLab.Started server = lab.started("server", nsS, program("--interface", "tuns", "--listen-port", "12345",
                "--bind-to-interface", "br0", "--secret-file", secret.toString()));
        Path serverLog = server.log();
        await(serverLog, "udp-encap-tun server: TUN tuns \\(attached, first IPv4 10\\.88\\.0\\.1\\)");
        Path httpLog = lab.start("http", nsS, List.of("/usr/bin/python3", "-u", "-m", "http.server", "8080",
                "--bind", "10.88.0.1", "--directory", www.toString()));
        await(httpLog, "Serving HTTP on 10\\.88\\.0\\.1 port 8080");

        // the client: the program creates its TUN; we configure it afterwards, as an administrator would
        NetnsLab.Started client = client(nsC, "tunc", "vc", "10.66.0.2", secret);
        Path clientLog = client.log();
        Path out = dir.resolve("out");
        String curl = run(120, ip, "netns", "exec", nsC, "/usr/bin/curl", "-sS", "--max-time", "100", "-o", out.toString(),
                "-w", "%{http_code} %{size_download} %{speed_download}", "http://" + SERVER + ":8080/file");
        assertTrue(curl.startsWith("200 " + SIZE + " "), "curl: " + curl + "\n" + tail(clientLog, 20) + tail(serverLog, 20));
        assertEquals(sha256(file), sha256(Files.readAllBytes(out)), "byte-identical");
        System.out.println("10 MiB through udp-encap-tun: curl reports " + curl.split(" ")[2] + " bytes/s");
        await(clientLog, "authenticated with /" + Pattern.quote(SERVER) + ":12345");
        await(serverLog, "peer 10\\.77\\.0\\.2:12345 authenticated; its address in the TUN is 10\\.88\\.0\\.\\d+");

        // the wrong secret: authentication fails, nothing reaches the HTTP server
        Path xLog = client(nsX, "tunx", "vx", "10.66.0.3", wrong).log();
        Path outX = dir.resolve("outX");
        String curlX = run(40, ip, "netns", "exec", nsX, "/usr/bin/curl", "-s", "--max-time", "8", "-o", outX.toString(),
                "-w", "%{http_code}", "http://" + SERVER + ":8080/file");
        assertEquals("000", curlX.strip(), "curl with the wrong secret");
        assertFalse(Files.exists(outX) && Files.size(outX) > 0);
        await(xLog, "authentication with /" + Pattern.quote(SERVER) + ":12345 failed: rejected by the server");
        await(serverLog, "authentication from /10\\.77\\.0\\.3:12345 rejected: wrong proof");
        assertEquals(1, Files.readAllLines(httpLog).stream().filter(l -> l.contains("GET /file")).count(),
                "the HTTP server saw exactly one request (the right client's)");
        assertTrue(Files.readAllLines(httpLog).stream().anyMatch(l -> l.startsWith("10.88.0.")),
                "the request came from a generated address");

        // SIGTERM: clean exit, and the TUN the client created is gone with it
        assertTrue(lab.stopAll(), "every process exits on SIGTERM");
        assertEquals(0, server.process().exitValue(), tail(serverLog, 30));
        assertEquals(0, client.process().exitValue(), tail(clientLog, 30));
        // offloads: the server's device gave TCP super-segments (cut into one segment per datagram, as the
        // specification's wire says), and the client joined what arrived into super-segments for its device
        assertTrue(Pattern.compile("stopped;.* super_segments_from_tun=[1-9]").matcher(Files.readString(serverLog)).find(),
                tail(serverLog, 5));
        assertTrue(Pattern.compile("stopped;.* super_segments_to_tun=[1-9]").matcher(Files.readString(clientLog)).find(),
                tail(clientLog, 5));
        assertFalse(run(10, ip, "-n", nsC, "link", "show").contains("tunc"), "the created TUN disappears");
        assertTrue(run(10, ip, "-n", nsS, "link", "show").contains("tuns"), "the persistent TUN stays");
    }

    private void veth(String ns, String name, String address) throws Exception {
        String br = "b" + name + lab.sfx;
        sh(ip, "link", "add", br, "netns", nsS, "type", "veth", "peer", "name", name, "netns", ns);
        sh(ip, "-n", nsS, "link", "set", br, "master", "br0", "up");
        sh(ip, "-n", ns, "addr", "add", address + "/24", "dev", name);
        sh(ip, "-n", ns, "link", "set", name, "up");
        // replies to the program come from an address routed into the TUN: loose reverse-path filtering
        sh(ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=2", "net.ipv4.conf." + name + ".rp_filter=2");
    }

    private NetnsLab.Started client(String ns, String tun, String dev, String address, Path secret) throws Exception {
        NetnsLab.Started started = lab.started(tun, ns, program("--interface", tun, "--listen-port", "12345", "--bind-to-interface", dev,
                "--endpoint-port", "12345", "--secret-file", secret.toString()));
        Path log = started.log();
        await(log, "udp-encap-tun client: TUN " + tun + " \\(created");
        sh(ip, "-n", ns, "addr", "add", address + "/32", "dev", tun);
        sh(ip, "-n", ns, "link", "set", tun, "mtu", "1400", "up");
        sh(ip, "-n", ns, "route", "add", SERVER + "/32", "dev", tun, "src", address);
        await(log, "TUN " + tun + ": first IPv4 address " + Pattern.quote(address));
        return started;
    }

    private static List<String> program(String... args) throws Exception {
        return NetnsLab.program("udp-encap-tun", "udp-encap-tun", args);
    }

    private void await(Path log, String regex) throws Exception {
        lab.await(log, regex);
    }
}
