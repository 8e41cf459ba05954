package io.sdt.server;

import io.sdt.core.tun.TunDevice;
import io.sdt.encap.EncapEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
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

    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final int SIZE = 10 << 20;
    private static final String SERVER = "10.77.0.1";

    @TempDir
    Path dir;
    private final String sfx = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    private final String nsS = "sdte-s-" + sfx;
    private final String nsC = "sdte-c-" + sfx;
    private final String nsX = "sdte-x-" + sfx;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> started = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private String ip;

    @BeforeEach
    void preconditions() {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to create network namespaces and TUN devices");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "/dev/net/tun is missing");
        ip = Stream.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip").filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst().orElse(null);
        assumeTrue(ip != null, "the ip command (iproute2) is missing");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 is missing");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "/usr/bin/curl is missing");
    }

    @AfterEach
    void removeEverythingWeMade() throws Exception {
        if (ip == null) {
            return; // skipped before anything was made
        }
        for (Process p : started) {
            p.toHandle().destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.toHandle().destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (String ns : namespaces) {
            run(10, ip, "netns", "del", ns); // takes its veths, bridge and TUNs with it
        }
        String left = run(10, ip, "netns", "list");
        for (String ns : namespaces) {
            assertFalse(left.contains(ns), "namespace " + ns + " left behind");
        }
        for (Path log : logs) {
            System.out.println("---- " + log.getFileName() + "\n" + tail(log, 40));
        }
    }

    @Test
    void tenMebibytesArriveIntactAndAWrongSecretGetsNothingThrough() throws Exception {
        byte[] file = new byte[SIZE];
        new Random(5).nextBytes(file);
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("file"), file);
        Path secret = Files.writeString(dir.resolve("secret"), "e2e-secret-" + sfx + "-0123456789abcdef\n");
        Path wrong = Files.writeString(dir.resolve("wrong"), "not-the-secret-" + sfx + "-0123456789\n");

        // the underlay: a bridge in S, one veth pair per client
        for (String ns : List.of(nsS, nsC, nsX)) {
            sh(ip, "netns", "add", ns);
            namespaces.add(ns);
            sh(ip, "-n", ns, "link", "set", "lo", "up");
        }
        sh(ip, "-n", nsS, "link", "add", "br0", "type", "bridge");
        sh(ip, "-n", nsS, "addr", "add", SERVER + "/24", "dev", "br0");
        sh(ip, "-n", nsS, "link", "set", "br0", "up");
        veth(nsC, "vc", "10.77.0.2");
        veth(nsX, "vx", "10.77.0.3");

        // server: a persistent TUN made with ip (the program attaches), then the program and the HTTP server
        sh(ip, "-n", nsS, "tuntap", "add", "dev", "tuns", "mode", "tun");
        sh(ip, "-n", nsS, "addr", "add", "10.88.0.1/24", "dev", "tuns");
        sh(ip, "-n", nsS, "link", "set", "tuns", "mtu", "1400", "up");
        Path serverLog = start("server", nsS, program("--interface", "tuns", "--listen-port", "12345",
                "--bind-to-interface", "br0", "--secret-file", secret.toString()));
        await(serverLog, "udp-encap-tun server: TUN tuns \\(attached, first IPv4 10\\.88\\.0\\.1\\)");
        Path httpLog = start("http", nsS, List.of("/usr/bin/python3", "-u", "-m", "http.server", "8080",
                "--bind", "10.88.0.1", "--directory", www.toString()));
        await(httpLog, "Serving HTTP on 10\\.88\\.0\\.1 port 8080");

        // the client: the program creates its TUN; we configure it afterwards, as an administrator would
        Path clientLog = client(nsC, "tunc", "vc", "10.66.0.2", secret);
        Path out = dir.resolve("out");
        String curl = run(120, ip, "netns", "exec", nsC, "/usr/bin/curl", "-sS", "--max-time", "100", "-o", out.toString(),
                "-w", "%{http_code} %{size_download} %{speed_download}", "http://" + SERVER + ":8080/file");
        assertTrue(curl.startsWith("200 " + SIZE + " "), "curl: " + curl + "\n" + tail(clientLog, 20) + tail(serverLog, 20));
        assertEquals(sha256(file), sha256(Files.readAllBytes(out)), "byte-identical");
        System.out.println("10 MiB through udp-encap-tun: curl reports " + curl.split(" ")[2] + " bytes/s");
        await(clientLog, "authenticated with /" + Pattern.quote(SERVER) + ":12345");
        await(serverLog, "peer 10\\.77\\.0\\.2:12345 authenticated; its address in the TUN is 10\\.88\\.0\\.\\d+");

        // the wrong secret: authentication fails, nothing reaches the HTTP server
        Path xLog = client(nsX, "tunx", "vx", "10.66.0.3", wrong);
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
        for (Process p : started) {
            p.toHandle().destroy();
        }
        for (Process p : started) {
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals(0, started.get(0).exitValue(), tail(serverLog, 30));
        assertEquals(0, started.get(2).exitValue(), tail(clientLog, 30));
        assertFalse(run(10, ip, "-n", nsC, "link", "show").contains("tunc"), "the created TUN disappears");
        assertTrue(run(10, ip, "-n", nsS, "link", "show").contains("tuns"), "the persistent TUN stays");
    }

    private void veth(String ns, String name, String address) throws Exception {
        String br = "b" + name + sfx;
        sh(ip, "link", "add", br, "netns", nsS, "type", "veth", "peer", "name", name, "netns", ns);
        sh(ip, "-n", nsS, "link", "set", br, "master", "br0", "up");
        sh(ip, "-n", ns, "addr", "add", address + "/24", "dev", name);
        sh(ip, "-n", ns, "link", "set", name, "up");
        // replies to the program come from an address routed into the TUN: loose reverse-path filtering
        sh(ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=2", "net.ipv4.conf." + name + ".rp_filter=2");
    }

    private Path client(String ns, String tun, String dev, String address, Path secret) throws Exception {
        Path log = start(tun, ns, program("--interface", tun, "--listen-port", "12345", "--bind-to-interface", dev,
                "--endpoint-port", "12345", "--secret-file", secret.toString()));
        await(log, "udp-encap-tun client: TUN " + tun + " \\(created");
        sh(ip, "-n", ns, "addr", "add", address + "/32", "dev", tun);
        sh(ip, "-n", ns, "link", "set", tun, "mtu", "1400", "up");
        sh(ip, "-n", ns, "route", "add", SERVER + "/32", "dev", tun, "src", address);
        await(log, "TUN " + tun + ": first IPv4 address " + Pattern.quote(address));
        return log;
    }

    /**
     * The real launcher when the built jar holds the code under test; otherwise (e.g. {@code mvn test}
     * before {@code package}) the same main class on the test's class path.
     */
    private List<String> program(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (jarIsCurrent()) {
            cmd.add(ROOT.resolve("udp-encap-tun").toString());
        } else {
            System.out.println("sdt.jar missing or not built from these classes: running io.sdt.server.Main from the class path");
            cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                    "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "udp-encap-tun"));
        }
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * Whether {@code tunnel-server/target/sdt.jar} and the tunnel-encap and tunnel-core jars in its {@code lib/}
     * hold exactly the classes this test runs with (compared byte for byte: Maven recompiles on every run, so
     * times say nothing).
     */
    private static boolean jarIsCurrent() throws IOException, URISyntaxException {
        Path lib = ROOT.resolve("tunnel-server/target/lib");
        if (!Files.isDirectory(lib)) {
            return false;
        }
        Path server = Path.of(UdpEncapTunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return sameClasses(server, ROOT.resolve("tunnel-server/target/sdt.jar"))
                && sameClasses(classesOf(EncapEngine.class), libJar(lib, "tunnel-encap-"))
                && sameClasses(classesOf(TunDevice.class), libJar(lib, "tunnel-core-"));
    }

    private static Path classesOf(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** The jar in {@code lib} whose name starts with {@code prefix}; a path that does not exist if there is none. */
    private static Path libJar(Path lib, String prefix) throws IOException {
        try (Stream<Path> jars = Files.list(lib)) {
            return jars.filter(j -> j.getFileName().toString().startsWith(prefix)).findFirst()
                    .orElse(lib.resolve(prefix + "missing.jar"));
        }
    }

    private static boolean sameClasses(Path classes, Path jar) throws IOException {
        if (!Files.exists(jar)) {
            return false;
        }
        if (!Files.isDirectory(classes)) {
            return Files.mismatch(classes, jar) == -1;
        }
        try (ZipFile zip = new ZipFile(jar.toFile()); Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".class"))::iterator) {
                ZipEntry e = zip.getEntry(classes.relativize(f).toString().replace('\\', '/'));
                if (e == null) {
                    return false;
                }
                try (InputStream in = zip.getInputStream(e)) {
                    if (!Arrays.equals(in.readAllBytes(), Files.readAllBytes(f))) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private Path start(String name, String ns, List<String> command) throws IOException {
        Path log = dir.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of(ip, "netns", "exec", ns));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SDT_LOG_LEVEL", "info");
        started.add(pb.start());
        logs.add(log);
        return log;
    }

    private void await(Path log, String regex) throws Exception {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readAllLines(log, StandardCharsets.UTF_8).stream().anyMatch(l -> p.matcher(l).find())) {
                return;
            }
            Thread.sleep(100);
        }
        fail("no line matching " + regex + " in " + log.getFileName() + ":\n" + tail(log, 40));
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return "(no log: " + e + ")\n";
        }
    }

    /** Runs a setup command; it must succeed within 20 s. */
    private static void sh(String... cmd) throws Exception {
        Path out = Files.createTempFile("sdte", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                fail(String.join(" ", cmd) + " hangs");
            }
            assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Runs a command with a time limit and returns its output (exit code not checked). */
    private static String run(int seconds, String... cmd) throws Exception {
        Path out = Files.createTempFile("sdte", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

}
