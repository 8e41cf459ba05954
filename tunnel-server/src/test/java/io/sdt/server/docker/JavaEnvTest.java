package io.sdt.server.docker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * scripts/java-env.sh, which ./sdt and CI source to pick a JDK 25: it reads a JDK's version from its
 * {@code release} file without starting it, and asks the JVM only where there is no such file.
 */
class JavaEnvTest {

    @TempDir
    Path dir;

    /** A JDK directory with {@code bin/java} and {@code bin/javac} running {@code script}, and the release file. */
    private Path jdk(String name, String release, String script) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name).resolve("bin")).getParent();
        for (String tool : new String[] {"java", "javac"}) {
            Path p = Files.writeString(home.resolve("bin").resolve(tool), "#!/bin/sh\n" + script + "\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        if (release != null) {
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + release + "\"\n");
        }
        return home;
    }

    /** The JAVA_HOME sdt_select_jdk picks when JAVA_HOME is {@code home}. */
    private static String picked(Path home) throws Exception {
        Shell.Result r = Shell.run(Repo.root(), Duration.ofSeconds(30), Map.of("JAVA_HOME", home.toString()),
                "bash", "-c", ". scripts/java-env.sh && sdt_select_jdk && echo \"$JAVA_HOME\"");
        assertEquals(0, r.exit(), r.describe());
        return r.out().strip();
    }

    @Test
    void aJdkIsKnownByItsReleaseFileWithoutRunningIt() throws Exception {
        Path home = jdk("jdk-25", "25.0.9", "exit 1"); // a java that cannot run: the release file alone says 25
        assertEquals(home.toString(), picked(home));
    }

    @Test
    void anOlderJdkIsPassedOver() throws Exception {
        Path home = jdk("jdk-17", "17.0.2", "echo '    java.specification.version = 25' >&2");
        assertNotEquals(home.toString(), picked(home), "the release file says 17, whatever the JVM would say");
    }

    @Test
    void withoutAReleaseFileTheJvmIsAsked() throws Exception {
        Path home = jdk("jdk-norelease", null, "echo '    java.specification.version = 25' >&2");
        assertEquals(home.toString(), picked(home));
    }
}
