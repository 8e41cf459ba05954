package io.sdt.server;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/** Real {@code sdt} processes for a test (this JVM's classpath); {@link #close()} kills those still alive. */
final class SdtProcesses implements AutoCloseable {

    private final List<Process> started = new ArrayList<>();

    /** A started sdt process with its stderr lines queued. */
    record Node(Process process, BlockingQueue<String> lines, StringBuilder all, Thread reader) {
        /** All of stderr, once the process has exited and its stream is drained. */
        String output() throws InterruptedException {
            reader.join(10_000);
            synchronized (all) {
                return all.toString();
            }
        }

        /** Stderr so far. */
        String soFar() {
            synchronized (all) {
                return all.toString();
            }
        }

        /** Waits for a stderr line matching {@code regex}; returns its first group (or the line). */
        String await(String regex) throws InterruptedException {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line == null) {
                    if (!process.isAlive() && lines.isEmpty()) {
                        break;
                    }
                    continue;
                }
                Matcher m = p.matcher(line);
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : line;
                }
            }
            fail("no line matching " + regex + " in:\n" + soFar());
            return null;
        }

        /**
         * Waits until anything stderr printed so far, in any order, matches {@code regex}; returns its
         * first group (or the match). Unlike {@link #await} it consumes nothing.
         */
        String seen(String regex) throws InterruptedException {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            synchronized (all) {
                while (true) {
                    Matcher m = p.matcher(all);
                    if (m.find()) {
                        return m.groupCount() > 0 ? m.group(1) : m.group();
                    }
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0 || !reader.isAlive()) {
                        break;
                    }
                    all.wait(left); // the reader notifies on every line and when the stream ends
                }
                fail("nothing matching " + regex + " in:\n" + all);
                return null;
            }
        }

        /** Sends a signal ({@code HUP}, {@code TERM}) to the process with kill(1). */
        void signal(String name) throws Exception {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                fail("kill -" + name + " " + process.pid() + " failed");
            }
        }
    }

    Node start(String... args) throws Exception {
        return start(Map.of(), args);
    }

    /**
     * A server from a configuration file written into {@code dir}: link on 127.0.0.1:{@code port}, one allowed
     * target, and {@code push.spool_dir} in {@code dir}/server-state so its push egresses remember what they
     * delivered across a restart (a restart with the same arguments finds it again). Returns once listening.
     */
    Node pushServer(java.nio.file.Path dir, java.nio.file.Path token, int port, int target) throws Exception {
        java.nio.file.Path yaml = java.nio.file.Files.writeString(dir.resolve("server.yaml"), String.join("\n",
                "node: server",
                "link:",
                "  listen: \"127.0.0.1:" + port + "\"",
                "  token_file: " + token,
                "policy:",
                "  allow_target: [\"127.0.0.1:" + target + "\"]",
                "push:",
                "  spool_dir: " + dir.resolve("server-state"),
                ""));
        Node s = start("run", yaml.toString());
        s.await("server listening on 127\\.0\\.0\\.1:" + port);
        return s;
    }

    /** Starts {@code sdt args...} with {@code env} added to a copy of this environment (SDT_TOKEN removed). */
    Node start(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                // the product's logging, not the log4j2-test.xml of the tunnel-core test jar on this classpath
                "-Dlog4j2.configurationFile=" + Main.class.getResource("/log4j2.properties"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("SDT_TOKEN");
        pb.environment().put("SDT_LOG_LEVEL", "info");
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder all = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (all) {
                        all.append(l).append('\n');
                        all.notifyAll();
                    }
                    lines.add(l);
                }
            } catch (Exception ignored) {
                // process ended
            } finally {
                synchronized (all) {
                    all.notifyAll();
                }
            }
        });
        return new Node(p, lines, all, reader);
    }

    @Override
    public void close() throws Exception {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
