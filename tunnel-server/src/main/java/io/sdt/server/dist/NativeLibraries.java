package io.sdt.server.dist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Netty's native libraries (BoringSSL, epoll, io_uring) taken out of their jars into one directory, as
 * docker/Dockerfile does for the image: the release's launcher puts that directory on {@code java.library.path},
 * where Netty looks first, so it never copies them to /tmp (a node then runs with a noexec /tmp, or none).
 */
public final class NativeLibraries {

    private static final String PREFIX = "META-INF/native/";

    private NativeLibraries() {
    }

    /** Copies every {@code META-INF/native/*.so} of the jars in {@code lib} into {@code out}; returns the names. */
    public static List<String> extract(Path lib, Path out) throws IOException {
        Files.createDirectories(out);
        List<Path> jars;
        try (Stream<Path> files = Files.list(lib)) {
            jars = files.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        List<String> names = new ArrayList<>();
        for (Path jar : jars) {
            try (JarFile file = new JarFile(jar.toFile())) {
                for (Enumeration<JarEntry> entries = file.entries(); entries.hasMoreElements(); ) {
                    JarEntry entry = entries.nextElement();
                    String name = entry.getName();
                    if (name.startsWith(PREFIX) && name.endsWith(".so") && name.indexOf('/', PREFIX.length()) < 0) {
                        try (InputStream in = file.getInputStream(entry)) {
                            Files.copy(in, out.resolve(name.substring(PREFIX.length())), StandardCopyOption.REPLACE_EXISTING);
                        }
                        names.add(name.substring(PREFIX.length()));
                    }
                }
            }
        }
        return names;
    }
}
