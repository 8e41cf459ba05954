package io.sdt.server.docker;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java runtime docker/Dockerfile links (its JLINK_MODULES) holds every module jdeps finds in
 * sdt.jar and lib/, so a new dependency cannot leave the image without a module it needs (a missing
 * java.xml or java.desktop does not fail at build time: the node then runs without logging or dies
 * on its first reconfiguration). Needs no Docker engine.
 */
class JlinkModulesIT {

    private static final Pattern MODULES = Pattern.compile("(?m)^ARG JLINK_MODULES=(\\S+)$");

    @Test
    void runtimeImageHasEveryModuleJdepsFinds() throws IOException {
        Path root = Repo.root();
        Path jar = Repo.jar(root);
        String classPath;
        try (Stream<Path> jars = Files.list(Repo.lib(root))) {
            classPath = jars.map(Path::toString).filter(p -> p.endsWith(".jar")).sorted()
                    .collect(Collectors.joining(":"));
        }
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(
                () -> new AssertionError("jdeps is missing: run the tests on a JDK 25, not a JRE"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = jdeps.run(new PrintWriter(out), new PrintWriter(err), "--ignore-missing-deps",
                "--print-module-deps", "--multi-release", "25", "--recursive", "--class-path", classPath,
                jar.toString());
        assertEquals(0, exit, "jdeps failed: " + err);
        List<String> lines = out.toString().strip().lines().toList();
        Set<String> needed = new TreeSet<>(Arrays.asList(lines.getLast().strip().split(",")));

        Matcher m = MODULES.matcher(Files.readString(Repo.dockerfile(root)));
        assertTrue(m.find(), "docker/Dockerfile has no 'ARG JLINK_MODULES=' line");
        Set<String> linked = new TreeSet<>(Arrays.asList(m.group(1).split(",")));

        Set<String> missing = new TreeSet<>(needed);
        missing.removeAll(linked);
        assertTrue(missing.isEmpty(), "docker/Dockerfile's JLINK_MODULES lacks " + missing
                + ", which jdeps finds in sdt.jar and lib/ (jdeps: " + needed + "); add them to JLINK_MODULES");
    }
}
