package io.sdt.server.release;

import io.sdt.server.docker.Shell;
import io.sdt.server.docker.Shell.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release tarball (scripts/release.sh) as an operator gets it: unpacked into an empty directory far from where
 * it was made, on a PATH without any java, it runs {@code sdt --version} and {@code sdt demo} on its own runtime,
 * with the AOT cache it was trained with and Netty's libraries from its native/; its systemd units pass
 * {@code systemd-analyze verify}. Runs in failsafe after {@code package}, which makes the tarball.
 */
class ReleaseTarballIT {

    @TempDir
    static Path dir;
    static Path home;
    static String version;
    static Map<String, String> noJava;

    @BeforeAll
    static void unpack() throws Exception {
        Assumptions.assumeTrue("Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch")),
                "the release is made only on Linux x86_64 (scripts/release.sh skips it elsewhere)");
        Properties build = new Properties();
        try (InputStream in = io.sdt.server.Main.class.getResourceAsStream("build-info.properties")) {
            assertTrue(in != null, "target/classes has build-info.properties (scripts/build-info.sh)");
            build.load(in);
        }
        version = build.getProperty("version");
        Path tarball = root().resolve("tunnel-server/target/sdt-" + version + "-linux-x86_64.tar.gz");
        Assumptions.assumeFalse(Boolean.getBoolean("sdt.release.skip"), "-Dsdt.release.skip=true: the build made no tarball");
        assertTrue(Files.isRegularFile(tarball), tarball + " is missing: the package phase makes it "
                + "(unless -Dsdt.release.skip=true); run this test after package");
        Path jar = root().resolve("tunnel-server/target/sdt.jar");
        assertTrue(Files.getLastModifiedTime(tarball).compareTo(Files.getLastModifiedTime(jar)) >= 0,
                tarball + " is older than " + jar + ": an earlier build made it; package again without -Dsdt.release.skip");
        Path into = Files.createDirectory(dir.resolve("unpacked"));
        Result tar = run(into, Map.of(), Duration.ofSeconds(120), "tar", "xzf", tarball.toString());
        assertEquals(0, tar.exit(), tar.describe());
        try (Stream<Path> top = Files.list(into)) {
            assertEquals(List.of(into.resolve("sdt-" + version)), top.toList(), "one directory sdt-VERSION at the top");
        }
        home = into.resolve("sdt-" + version);
        noJava = Map.of("PATH", pathWithoutJava().toString(), "HOME", dir.toString(), "LANG", "C.UTF-8");
        Result which = run(dir, noJava, Duration.ofSeconds(10), "bash", "-c", "command -v java");
        assertEquals(1, which.exit(), "java is not on the test PATH: " + which.describe());
    }

    /** The links of {@link #pathWithoutJava}, removed before JUnit deletes the temp dir (it warns about each). */
    @AfterAll
    static void removePathLinks() throws IOException {
        Path bin = dir.resolve("path");
        if (Files.isDirectory(bin)) {
            try (Stream<Path> links = Files.list(bin)) {
                for (Path link : links.toList()) {
                    Files.delete(link);
                }
            }
        }
    }

    /**
     * A directory of links to every command in /usr/bin, /bin, /usr/sbin and /sbin except those of a JDK (java
     * itself on these machines is /usr/bin/java, a link into /usr/lib/jvm): the PATH of a machine without Java.
     */
    private static Path pathWithoutJava() throws IOException {
        Path bin = Files.createDirectory(dir.resolve("path"));
        Path jdk = Path.of(System.getProperty("java.home")).toRealPath();
        for (String d : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            if (!Files.isDirectory(Path.of(d))) {
                continue;
            }
            try (Stream<Path> commands = Files.list(Path.of(d))) {
                for (Path c : commands.toList()) {
                    Path link = bin.resolve(c.getFileName().toString());
                    Path real;
                    try {
                        real = c.toRealPath();
                    } catch (IOException dangling) {
                        continue;
                    }
                    if (real.startsWith("/usr/lib/jvm") || real.startsWith(jdk) || Files.exists(link)) {
                        continue;
                    }
                    Files.createSymbolicLink(link, c);
                }
            }
        }
        return bin;
    }

    private static Result sdt(Map<String, String> env, String... args) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(noJava);
        all.putAll(env);
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/sdt").toString()));
        cmd.addAll(List.of(args));
        // from another directory than the release's, as systemd or an operator's shell would run it
        return run(dir, all, Duration.ofSeconds(120), cmd.toArray(String[]::new));
    }

    @Test
    void versionRunsOnTheBundledRuntimeWithItsAotCacheAndNativeLibraries() throws Exception {
        Result r = sdt(Map.of("SDT_JAVA_OPTS", "-Xlog:aot=info:stderr -XshowSettings:properties"), "--version");
        assertEquals(0, r.exit(), r.describe());
        List<String> lines = r.out().lines().toList();
        assertEquals(4, lines.size(), r.describe());
        assertTrue(lines.get(0).startsWith("sdt " + version + " (commit "), lines.get(0));
        assertTrue(lines.get(1).startsWith("Netty 4."), lines.get(1));
        assertTrue(lines.get(2).startsWith("BoringSSL (revision "), "netty-tcnative loaded: " + lines.get(2));
        assertTrue(lines.get(3).startsWith("Java 25"), lines.get(3));
        assertTrue(r.err().contains("java.home = " + home.resolve("runtime").toRealPath()),
                "the JVM is the release's runtime:\n" + r.err());
        assertTrue(r.err().contains("java.library.path = " + home.toRealPath().resolve("native")), r.err());
        // trained in tunnel-server/target/release, used here: the JVM matches runtime and jars by their common prefix
        assertTrue(r.err().contains("Opened AOT cache " + home.toRealPath().resolve("lib/sdt.aot")),
                "the JVM opened the release's AOT cache after the move:\n" + r.err());
        assertTrue(r.err().contains("Using AOT-linked classes: true"), "and used it:\n" + r.err());
    }

    @Test
    void theDemoRunsAndNettyUnpacksNothingToTmp() throws Exception {
        Path tmp = Files.createDirectory(dir.resolve("java-tmp"));
        Result r = sdt(Map.of("SDT_JAVA_OPTS", "-Djava.io.tmpdir=" + tmp), "demo");
        assertEquals(0, r.exit(), r.describe());
        assertTrue(r.out().contains("sdt demo: OK"), r.describe());
        assertEquals(2, r.out().split("matches", -1).length - 1, "both forwards echoed by SHA-256:\n" + r.out());
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "Netty loads its libraries from native/, not a copy in the temp dir");
        }
    }

    @Test
    void withoutItsAotCacheTheReleaseStillStartsAndSaysWhyAtDebug() throws Exception {
        Result off = sdt(Map.of("SDT_AOT", "off"), "token");
        assertEquals(0, off.exit(), off.describe());
        assertTrue(off.out().matches("[A-Za-z0-9_-]{43}\n"), "stdout is the token alone: " + off.describe());

        // copied without its times (cp -r): the JVM refuses the cache and starts without it
        Path copy = dir.resolve("copied");
        Result cp = run(dir, Map.of(), Duration.ofSeconds(60), "cp", "-r", home.toString(), copy.toString());
        assertEquals(0, cp.exit(), cp.describe());
        Files.setLastModifiedTime(copy.resolve("sdt.jar"), FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        List<String> cmd = List.of(copy.resolve("bin/sdt").toString(), "token");
        Map<String, String> env = new LinkedHashMap<>(noJava);
        Result refused = run(dir, env, Duration.ofSeconds(60), cmd.toArray(String[]::new));
        assertEquals(0, refused.exit(), refused.describe());
        assertTrue(refused.out().matches("[A-Za-z0-9_-]{43}\n"), "stdout is the token alone: " + refused.describe());
        assertEquals("", refused.err(), "nothing on stderr either");
        env.put("SDT_LOG_LEVEL", "debug");
        Result said = run(dir, env, Duration.ofSeconds(60), cmd.toArray(String[]::new));
        assertEquals(0, said.exit(), said.describe());
        assertTrue(said.err().contains("timestamp has changed") || said.err().contains("mismatch"),
                "at debug the JVM says why it refused the cache:\n" + said.err());
    }

    @Test
    void theSystemdUnitsPassSystemdAnalyzeVerify() throws Exception {
        Result which = run(dir, Map.of(), Duration.ofSeconds(10), "sh", "-c", "command -v systemd-analyze");
        Assumptions.assumeTrue(which.exit() == 0, "systemd-analyze is not installed (Debian: systemd): the units are not verified");
        Path units = Files.createDirectory(dir.resolve("units"));
        List<String> cmd = new ArrayList<>(List.of("systemd-analyze", "verify"));
        try (Stream<Path> files = Files.list(home.resolve("systemd"))) {
            for (Path unit : files.sorted().toList()) {
                String text = Files.readString(unit);
                assertTrue(text.contains("/opt/sdt/bin/"), unit + " runs /opt/sdt/bin/...");
                // the unpacked launchers instead of /opt/sdt's: verify checks that ExecStart's program exists
                Path copy = Files.writeString(units.resolve(unit.getFileName()), text.replace("/opt/sdt/", home + "/"));
                cmd.add(copy.toString());
            }
        }
        assertEquals(3, cmd.size() - 2, "sdt@, sdt-vpn@ and sdt-udp-encap-tun@: " + cmd);
        // verify also runs man for each Documentation=man:... page: MANPATH names the release's own pages
        if (run(dir, Map.of(), Duration.ofSeconds(10), "sh", "-c", "command -v man").exit() != 0) {
            System.out.println("ReleaseTarballIT: no man (Debian: man-db): the units' man: pages are not checked");
            cmd.add(2, "--man=no");
        }
        Result r = run(units, Map.of("PATH", System.getenv("PATH"), "MANPATH", home.resolve("man").toString()),
                Duration.ofSeconds(60),
                cmd.toArray(String[]::new));
        assertEquals(0, r.exit(), r.describe());
        String said = r.out() + r.err();
        for (String bad : List.of("Unknown", "unknown", "Invalid", "invalid", "Failed", "ignoring", "not executable")) {
            assertFalse(said.contains(bad), "systemd-analyze verify: '" + bad + "':\n" + said);
        }
    }

    /** The VPN units are sdt@.service with the TUN device's capability and device node, nothing else. */
    @Test
    void theVpnUnitsDifferFromTheNodeUnitOnlyByTheTunDevice() throws IOException {
        Map<String, String> node = service(home.resolve("systemd/sdt@.service"));
        assertEquals("yes", node.get("DynamicUser"));
        assertEquals("", node.get("CapabilityBoundingSet"), "the node unit keeps no capability");
        assertEquals("yes", node.get("PrivateDevices"));
        assertEquals("sdt run /etc/sdt/%i.yaml", node.get("ExecStart").replace("/opt/sdt/bin/", ""));
        List<String> tun = List.of("CapabilityBoundingSet", "AmbientCapabilities", "PrivateDevices", "DevicePolicy",
                "DeviceAllow");
        for (String name : List.of("sdt-vpn@.service", "sdt-udp-encap-tun@.service")) {
            Map<String, String> vpn = service(home.resolve("systemd").resolve(name));
            assertEquals("CAP_NET_ADMIN", vpn.get("CapabilityBoundingSet"), name);
            assertEquals("CAP_NET_ADMIN", vpn.get("AmbientCapabilities"), name);
            assertEquals("/dev/net/tun rw", vpn.get("DeviceAllow"), name);
            for (Map.Entry<String, String> e : node.entrySet()) {
                boolean own = tun.contains(e.getKey()) || List.of("ExecStart", "ExecReload", "StateDirectory",
                        "LogsDirectory").contains(e.getKey());
                if (!own) {
                    assertEquals(e.getValue(), vpn.get(e.getKey()), name + ": " + e.getKey() + " as in sdt@.service");
                }
            }
        }
    }

    /** The [Service] settings of a unit file, name to value (each name appears once in these units). */
    private static Map<String, String> service(Path unit) throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        boolean in = false;
        for (String line : Files.readAllLines(unit)) {
            if (line.startsWith("[")) {
                in = line.equals("[Service]");
            } else if (in && !line.isBlank() && !line.startsWith("#")) {
                int eq = line.indexOf('=');
                assertTrue(eq > 0, unit + ": " + line);
                assertEquals(null, settings.put(line.substring(0, eq), line.substring(eq + 1)), unit + ": twice: " + line);
            }
        }
        return settings;
    }

    private static Path root() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("scripts/release.sh"))) {
                return d;
            }
        }
        throw new AssertionError("no scripts/release.sh above " + Path.of("").toAbsolutePath());
    }

    /**
     * Runs a command in {@code dir} with only the given environment (the test's own when it is empty); stdout and
     * stderr kept apart.
     */
    private static Result run(Path dir, Map<String, String> env, Duration timeout, String... command)
            throws IOException, InterruptedException {
        return env.isEmpty() ? Shell.run(dir, timeout, env, command) : Shell.runWithOnly(dir, timeout, env, command);
    }
}
