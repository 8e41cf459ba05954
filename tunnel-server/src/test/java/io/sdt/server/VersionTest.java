package io.sdt.server;

import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sdt --version}: the build (version, the commit scripts/build-info.sh recorded, the date), Netty, the TLS
 * library netty-tcnative loaded, and Java, one line each.
 */
class VersionTest {

    private static final Pattern BUILD =
            Pattern.compile("sdt (\\S+) \\(commit ([0-9a-f]{7,}|unknown)(-dirty)?, built (\\d{4}-\\d\\d-\\d\\d)\\)");

    private static List<String> version(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(0, code, String.join(" ", args) + ": " + err);
        return out.toString().lines().toList();
    }

    @Test
    void fourLinesNameTheBuildNettyTheTlsLibraryAndJava() {
        List<String> lines = version("--version");
        assertEquals(4, lines.size(), "lines: " + lines);

        Matcher build = BUILD.matcher(lines.get(0));
        assertTrue(build.matches(), "first line: " + lines.get(0));
        assertTrue(!build.group(1).equals("dev"), "the build wrote build-info.properties: " + lines.get(0));

        io.netty.util.Version netty = io.netty.util.Version.identify().get("netty-common");
        assertNotNull(netty, "netty-common names its version");
        assertEquals("Netty " + netty.artifactVersion(), lines.get(1));
        assertTrue(lines.get(1).matches("Netty 4\\.\\d+\\.\\d+\\.Final"), lines.get(1));

        assertTrue(OpenSsl.isAvailable(), "the tests run with netty-tcnative: " + OpenSsl.unavailabilityCause());
        assertTrue(lines.get(2).matches(Pattern.quote(OpenSsl.versionString())
                + " \\(revision [0-9a-f]{12}, netty-tcnative \\d+\\.\\d+\\.\\d+\\.Final\\)"), lines.get(2));
        assertTrue(lines.get(2).startsWith("BoringSSL "), lines.get(2));

        assertEquals("Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")", lines.get(3));
    }

    @Test
    void everySubcommandSaysTheSame() {
        List<String> top = version("--version");
        for (String sub : List.of("server", "client", "run", "demo", "token", "udp-encap-tun")) {
            assertEquals(top, version(sub, "--version"), "sdt " + sub + " --version");
        }
    }

    /**
     * The commit is the checkout's HEAD (the build ran scripts/build-info.sh moments ago). One tolerance: a commit
     * made in this working tree between that and this test moves HEAD on, so a recorded commit that is HEAD's
     * ancestor passes when HEAD is younger than the recorded file.
     */
    @Test
    void theCommitIsTheCheckoutsHead() throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        Git head = git(root, "rev-parse", "--short", "HEAD");
        if (head.exit() != 0) {
            System.out.println("VersionTest: not a git checkout here (" + head.out().strip() + "): commit not compared");
            return;
        }
        Matcher build = BUILD.matcher(version("--version").get(0));
        assertTrue(build.matches());
        String recorded = build.group(2);
        if (recorded.equals(head.out().strip())) {
            return;
        }
        URL file = Main.class.getResource("build-info.properties");
        assertNotNull(file, "build-info.properties");
        long written = Files.getLastModifiedTime(Path.of(file.toURI())).toMillis() / 1000;
        long headTime = Long.parseLong(git(root, "log", "-1", "--format=%ct", "HEAD").out().strip());
        boolean ancestor = git(root, "merge-base", "--is-ancestor", recorded, "HEAD").exit() == 0;
        assertTrue(ancestor && headTime >= written, "recorded commit " + recorded + ", HEAD is " + head.out().strip()
                + " (ancestor: " + ancestor + ", HEAD committed at " + headTime + ", file written at " + written + ")");
    }

    record Git(int exit, String out) {
    }

    private static Git git(Path dir, String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "git";
        cmd[1] = "-C";
        cmd[2] = dir.toString();
        System.arraycopy(args, 0, cmd, 3, args.length);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            return new Git(127, "no git: " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "git " + String.join(" ", args) + " did not finish");
        return new Git(p.exitValue(), out);
    }
}
