package io.sdt.server.docker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The repository's {@code ./sdt} launcher and the AOT cache: a valid cache is used, and a missing, corrupt or
 * stale one never stops sdt from starting or puts anything into what it prints; at debug level it says why.
 * Runs after {@code package} with the image tests (it needs the built jar and cache), but needs no Docker.
 */
class LauncherIT {

    @TempDir
    Path dir;

    /**
     * Under {@code nohup} SIGHUP arrives ignored, and a JVM started so never installs a handler for it: the
     * launcher restores its default, so {@code sdt run} still reloads on SIGHUP.
     */
    @Test
    void aNodeStartedWithSighupIgnoredStillReloadsOnSighup() throws Exception {
        Path yaml = Files.writeString(dir.resolve("server.yaml"), String.join("\n",
                "node: server",
                "link: {listen: \"127.0.0.1:0\", token: \"0123456789abcdef0123456789abcdef\"}",
                ""));
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "trap '' HUP; exec \"$0\" run \"$1\"",
                Repo.root().resolve("sdt").toString(), yaml.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SDT_LOG_LEVEL", "info");
        try (Node node = Node.start(pb)) {
            assertTrue(node.until("server listening"), "started:\n" + node.err());
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(node.process().pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(node.until("SIGHUP: reloading"), "SIGHUP reached the node:\n" + node.err());
        }
    }

    /**
     * ./sdt names Log4j2's configuration to spare it the search; one named in SDT_JAVA_OPTS is still the one used
     * (its pattern marks every line), and without one the node logs in the default layout.
     */
    @Test
    void aLog4j2ConfigurationGivenInSdtJavaOptsIsTheOneUsed() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123456789abcdef\n");
        Path config = Files.writeString(dir.resolve("custom-log4j2.properties"), String.join("\n",
                "appender.err.type = Console", "appender.err.name = err", "appender.err.target = SYSTEM_ERR",
                "appender.err.layout.type = PatternLayout", "appender.err.layout.pattern = CUSTOM-LAYOUT %msg%n",
                "rootLogger.level = info", "rootLogger.appenderRef.err.ref = err", ""));
        assertTrue(serverLogs(Map.of("SDT_JAVA_OPTS", "-Dlog4j2.configurationFile=" + config), token)
                .contains("CUSTOM-LAYOUT server listening"));
        String plain = serverLogs(Map.of(), token);
        assertTrue(plain.matches("(?s).*\\d{4}-\\d\\d-\\d\\d [0-9:.]+ INFO  SdtServer: server listening.*"), plain);
    }

    /** What a server started through ./sdt logs until it listens (then it is stopped). */
    private String serverLogs(Map<String, String> env, Path token) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Repo.root().resolve("sdt").toString(), "server", "--listen", "127.0.0.1:0",
                "--token-file", token.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        try (Node node = Node.start(pb)) {
            assertTrue(node.until("server listening"), "started:\n" + node.err());
            return node.err();
        }
    }

    /** A node started through ./sdt, its stderr read line by line as it comes; closing it stops it. */
    private record Node(Process process, StringBuilder lines, Thread reader) implements AutoCloseable {

        static Node start(ProcessBuilder pb) throws java.io.IOException {
            Process p = pb.start();
            StringBuilder lines = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getErrorStream()))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.append(l).append('\n');
                            lines.notifyAll();
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the process ended
                } finally {
                    synchronized (lines) {
                        lines.notifyAll();
                    }
                }
            });
            return new Node(p, lines, reader);
        }

        boolean until(String text) throws InterruptedException {
            return LauncherIT.until(lines, text, process);
        }

        String err() {
            synchronized (lines) {
                return lines.toString();
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            reader.join(5_000);
        }
    }

    /**
     * Waits (at most 30 s, less if the process ends) until {@code err} holds {@code text}: woken by every line the
     * reader appends and by the stream's end.
     */
    private static boolean until(StringBuilder err, String text, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        synchronized (err) {
            while (err.indexOf(text) < 0) {
                long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !p.isAlive()) {
                    return false;
                }
                err.wait(Math.min(left, 1_000)); // a process that dies without a last line is seen within 1 s
            }
            return true;
        }
    }

    private static Shell.Result sdt(Map<String, String> env, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = Repo.root().resolve("sdt").toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        return Shell.run(Repo.root(), Duration.ofSeconds(60), env, cmd);
    }

    private static void assertOneToken(Shell.Result r, String what) {
        assertEquals(0, r.exit(), what + ": " + r.err());
        assertTrue(r.out().matches("[A-Za-z0-9_-]{43}\n"), what + ": stdout is the token alone: '" + r.out() + "'");
    }

    @Test
    void theBuildsCacheIsUsedAndABadOneIsSkippedQuietly() throws Exception {
        Path cache = Repo.root().resolve("tunnel-server/target/sdt.aot");
        assertTrue(Files.size(cache) > 1 << 20, "the build made an AOT cache: " + cache);
        Shell.Result used = sdt(Map.of("SDT_LOG_LEVEL", "debug", "SDT_JAVA_OPTS", "-Xlog:aot=info:stderr"), "token");
        assertOneToken(used, "with the build's cache");
        assertTrue(used.err().contains("Opened AOT cache") || used.err().contains("Using AOT"),
                "the JVM opened the cache:\n" + used.err());

        byte[] junk = new byte[64 * 1024];
        new Random(1).nextBytes(junk);
        Path corrupt = Files.write(dir.resolve("corrupt.aot"), junk);
        assertOneToken(sdt(Map.of("SDT_AOT_CACHE", corrupt.toString()), "token"), "a corrupt cache");
        Shell.Result said = sdt(Map.of("SDT_AOT_CACHE", corrupt.toString(), "SDT_LOG_LEVEL", "debug"), "token");
        assertOneToken(said, "a corrupt cache at debug");
        assertTrue(said.err().contains("aot"), "at debug the JVM says why it did not use the cache:\n" + said.err());

        Shell.Result missing = sdt(Map.of("SDT_AOT_CACHE", dir.resolve("none.aot").toString(), "SDT_LOG_LEVEL", "debug"),
                "token");
        assertOneToken(missing, "no cache");
        assertTrue(missing.err().contains("starting without an AOT cache"), missing.err());
        assertOneToken(sdt(Map.of("SDT_AOT", "off"), "token"), "SDT_AOT=off");
    }

    /**
     * The launcher's memory defaults, a 16 MiB young generation and a native-heap trim every 5 s, reach the JVM;
     * SDT_JAVA_OPTS that sizes the heap or sets the interval replaces them.
     */
    @Test
    void memoryDefaultsReachTheJvmAndSdtJavaOptsReplacesThem() throws Exception {
        Shell.Result defaults = sdt(Map.of("SDT_JAVA_OPTS", "-XX:+PrintFlagsFinal"), "--version");
        assertEquals(0, defaults.exit(), defaults.err());
        assertEquals("16777216", flag(defaults.out(), "MaxNewSize"));
        assertEquals("5000", flag(defaults.out(), "TrimNativeHeapInterval"));
        Shell.Result own = sdt(Map.of("SDT_JAVA_OPTS", "-XX:+PrintFlagsFinal -Xmx256m -XX:TrimNativeHeapInterval=0"),
                "--version");
        assertEquals(0, own.exit(), own.err());
        assertTrue(!flag(own.out(), "MaxNewSize").equals("16777216"), "the JVM sizes the young generation itself");
        assertEquals("0", flag(own.out(), "TrimNativeHeapInterval"));
    }

    /** The value of one flag in -XX:+PrintFlagsFinal's table ("  uint Name  = value  {product} {...}"). */
    private static String flag(String table, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s" + name + "\\s+:?=\\s+(\\S+)").matcher(table);
        assertTrue(m.find(), name + " in:\n" + table);
        return m.group(1);
    }

    /**
     * ./sdt loads Netty's native libraries from the build's target/native: with Netty's extraction directory a
     * plain file, where nothing can be extracted, the demo still runs BoringSSL and epoll (without target/native
     * it exits 1: failed to load the required native library).
     */
    @Test
    void nativeLibrariesComeFromTheBuildNotTmp() throws Exception {
        assertTrue(Files.isRegularFile(Repo.root().resolve("tunnel-server/target/native/libnetty_tcnative_linux_x86_64.so")),
                "the build took the libraries out of their jars");
        Path notADirectory = Files.writeString(dir.resolve("not-a-directory"), "x");
        Shell.Result demo = sdt(Map.of("SDT_JAVA_OPTS", "-Dio.netty.native.workdir=" + notADirectory), "demo");
        assertEquals(0, demo.exit(), demo.err());
        assertTrue(demo.out().contains("transport epoll"), demo.out());
    }
}
