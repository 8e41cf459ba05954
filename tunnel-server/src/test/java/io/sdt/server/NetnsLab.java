package io.sdt.server;

import io.sdt.core.tun.TunDevice;
import io.sdt.encap.EncapEngine;

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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Network namespaces, and the processes a test runs in them, for the end-to-end tests that need real TUN
 * devices (root only). Every namespace is named with a random suffix and removed by {@link #close}, which
 * also stops every process started here (SIGTERM, then SIGKILL) and prints the tail of each log. Every wait
 * is bounded.
 */
final class NetnsLab implements AutoCloseable {

    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    final String sfx = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    final String ip;
    private final Path dir;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> started = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();

    NetnsLab(Path dir) {
        this.dir = dir;
        this.ip = Stream.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip")
                .filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse(null);
    }

    /** Why a namespace test cannot run here (not root, no TUN, no ip, or a missing tool), or null. */
    static String missing(String... tools) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "needs root to create network namespaces and TUN devices";
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            return "/dev/net/tun is missing";
        }
        if (new NetnsLab(null).ip == null) {
            return "the ip command (iproute2) is missing";
        }
        for (String t : tools) {
            if (!Files.isExecutable(Path.of(t))) {
                return t + " is missing";
            }
        }
        return null;
    }

    /** A new namespace {@code prefix}-SUFFIX with loopback up; removed by {@link #close}. */
    String namespace(String prefix) throws Exception {
        String ns = prefix + "-" + sfx;
        sh(ip, "netns", "add", ns);
        namespaces.add(ns);
        sh(ip, "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    /** Starts {@code command} in {@code ns}, output to {@code name}.log; returns the log. */
    Path start(String name, String ns, List<String> command) throws IOException {
        return started(name, ns, command).log;
    }

    /** A process started in a namespace, with its log. */
    record Started(Process process, Path log) {
    }

    Started started(String name, String ns, List<String> command) throws IOException {
        Path log = dir.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of(ip, "netns", "exec", ns));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("SDT_LOG_LEVEL", "info");
        Process p = pb.start();
        started.add(p);
        if (!logs.contains(log)) {
            logs.add(log);
        }
        return new Started(p, log);
    }

    /** Waits (30 s at most) for a line of {@code log} matching {@code regex}. */
    void await(Path log, String regex) throws Exception {
        await(log, regex, 30);
    }

    void await(Path log, String regex, int seconds) throws Exception {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readAllLines(log, StandardCharsets.UTF_8).stream().anyMatch(l -> p.matcher(l).find())) {
                return;
            }
            Thread.sleep(100);
        }
        fail("no line matching " + regex + " in " + log.getFileName() + ":\n" + tail(log, 40));
    }

    /** Lines of {@code log} matching {@code regex}. */
    static long count(Path log, String regex) throws IOException {
        Pattern p = Pattern.compile(regex);
        return Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> p.matcher(l).find()).count();
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return "(no log: " + e + ")\n";
        }
    }

    /** Runs a setup command; it must succeed within 20 s. */
    static void sh(String... cmd) throws Exception {
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
    static String run(int seconds, String... cmd) throws Exception {
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

    /** {@code run} inside {@code ns}. */
    String in(String ns, int seconds, String... cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of(ip, "netns", "exec", ns));
        all.addAll(List.of(cmd));
        return run(seconds, all.toArray(String[]::new));
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /**
     * The command line of the real launcher {@code launcher} ({@code sdt} or {@code udp-encap-tun}) when the
     * built jar holds the code under test; otherwise (e.g. {@code mvn test} before {@code package}) the same
     * main class on the test's class path with {@code subcommand}.
     */
    static List<String> program(String launcher, String subcommand, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (jarIsCurrent()) {
            cmd.add(ROOT.resolve(launcher).toString());
            if (launcher.equals("sdt")) {
                cmd.add(subcommand);
            }
        } else {
            System.out.println("sdt.jar missing or not built from these classes: running io.sdt.server.Main from the class path");
            cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                    "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), subcommand));
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

    /** Stops the processes started here and waits for them (bounded); true if each exited by itself. */
    boolean stopAll() throws InterruptedException {
        boolean clean = true;
        for (Process p : started) {
            p.toHandle().destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                clean = false;
                p.toHandle().destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
        return clean;
    }

    @Override
    public void close() throws Exception {
        if (ip == null) {
            return;
        }
        stopAll();
        for (String ns : namespaces) {
            run(10, ip, "netns", "del", ns); // takes its veths, bridges and TUNs with it
        }
        String left = run(10, ip, "netns", "list");
        for (String ns : namespaces) {
            assertFalse(left.contains(ns), "namespace " + ns + " left behind");
        }
        for (Path log : logs) {
            System.out.println("---- " + log.getFileName() + "\n" + tail(log, 40));
        }
    }
}
