package io.sdt.server.docker;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The Docker engine the Docker tests talk to: one that already answers, or Debian's dockerd that
 * docker/start-engine.sh starts, which {@link #close()} stops again. Where no engine can run, the
 * test is aborted (reported as skipped) with the script's reason.
 */
final class DockerEngine implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(DockerEngine.class);

    /** The dockerd this class started, or null when one was already running. */
    private final ProcessHandle started;

    private DockerEngine(ProcessHandle started) {
        this.started = started;
    }

    static DockerEngine ensure(Path repo) throws Exception {
        Shell.Result r = Shell.run(repo, Duration.ofMinutes(2), Map.of(), "bash", "docker/start-engine.sh");
        if (r.exit() == Shell.UNAVAILABLE) {
            String reason = "no Docker engine can run here: " + r.lastErrorLine();
            log.warn("Docker tests skipped: {}", reason);
            abort(reason);
        }
        assertEquals(0, r.exit(), "docker/start-engine.sh failed: " + r.describe());
        String[] words = r.out().strip().split("\\s+");
        if (words[0].equals("started")) {
            long pid = Long.parseLong(words[1]);
            log.info("started dockerd, pid {} (log {}); {}", pid, words[2], r.err().strip());
            return new DockerEngine(ProcessHandle.of(pid).orElse(null));
        }
        log.info("using the Docker engine that is already running");
        return new DockerEngine(null);
    }

    /** Stops the engine if this class started it (SIGTERM, then SIGKILL after 30 s). */
    @Override
    public void close() throws Exception {
        if (started == null || !started.isAlive()) {
            return;
        }
        started.destroy();
        try {
            started.onExit().get(30, TimeUnit.SECONDS);
            log.info("stopped dockerd, pid {}", started.pid());
        } catch (java.util.concurrent.TimeoutException e) {
            log.warn("dockerd {} did not stop within 30 s; killing it", started.pid());
            started.destroyForcibly();
        }
    }
}
