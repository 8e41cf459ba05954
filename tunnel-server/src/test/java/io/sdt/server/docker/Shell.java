package io.sdt.server.docker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command (one of the repository's docker/ scripts, the release's launchers) with a deadline and keeps
 * what it printed, stdout and stderr apart; on timeout it ends the command and its children.
 */
public final class Shell {

    /** Exit code the docker/ scripts use for "cannot be done on this machine" (then the test is skipped). */
    static final int UNAVAILABLE = 3;

    public record Result(int exit, String out, String err) {

        /** The script's own last word on stderr, e.g. "start-engine: unavailable: REASON". */
        String lastErrorLine() {
            List<String> lines = err.strip().lines().toList();
            return lines.isEmpty() ? "(no message)" : lines.getLast();
        }

        public String describe() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Shell() {
    }

    /** Runs {@code command} in {@code dir} with the test's environment plus {@code env}. */
    public static Result run(Path dir, Duration timeout, Map<String, String> env, String... command)
            throws IOException, InterruptedException {
        return run(dir, timeout, env, false, command);
    }

    /** Runs {@code command} in {@code dir} with {@code env} as its whole environment. */
    public static Result runWithOnly(Path dir, Duration timeout, Map<String, String> env, String... command)
            throws IOException, InterruptedException {
        return run(dir, timeout, env, true, command);
    }

    private static Result run(Path dir, Duration timeout, Map<String, String> env, boolean only, String... command)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("sdt-shell-", ".out");
        Path err = Files.createTempFile("sdt-shell-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            if (only) {
                pb.environment().clear();
            }
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "\n--- stderr\n" + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
