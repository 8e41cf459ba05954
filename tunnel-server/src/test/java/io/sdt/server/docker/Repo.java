package io.sdt.server.docker;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository the Docker tests read: the Dockerfile, its scripts, the packaged jars. */
final class Repo {

    private Repo() {
    }

    /** The repository root: the first directory up from the working directory with docker/Dockerfile. */
    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("docker/Dockerfile"))) {
                return dir;
            }
        }
        throw new AssertionError("no docker/Dockerfile above " + Path.of("").toAbsolutePath());
    }

    static Path dockerfile(Path root) {
        return root.resolve("docker/Dockerfile");
    }

    /** tunnel-server/target/sdt.jar: made by `package`, which runs before failsafe's integration tests. */
    static Path jar(Path root) {
        Path jar = root.resolve("tunnel-server/target/sdt.jar");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(lib(root))) {
            throw new AssertionError(jar + " or its lib/ is missing: run the Docker tests after `package` "
                    + "(./mvnw verify runs them in failsafe's integration-test phase)");
        }
        return jar;
    }

    static Path lib(Path root) {
        return root.resolve("tunnel-server/target/lib");
    }
}
