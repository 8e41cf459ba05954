package io.sdt.server.dist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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

    /**
     * {@code NativeLibraries LIB OUT}: the build runs this at package time for ./sdt, which puts
     * tunnel-server/target/native on {@code java.library.path} as the release and the image do.
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: NativeLibraries LIB_DIR OUT_DIR");
            System.exit(2);
        }
        try {
            System.out.println("native-libraries: " + extract(Path.of(args[0]), Path.of(args[1])) + " in " + args[1]);
        } catch (NoSuchFileException e) {
            System.err.println("native-libraries: error: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Copies every {@code META-INF/native/*.so} of the jars in {@code lib} into {@code out}, after removing the
     * {@code .so} files already there (a library of another Netty would not link); returns the names.
     *
     * @throws NoSuchFileException if no BoringSSL (netty_tcnative) library was among them
     */
    public static List<String> extract(Path lib, Path out) throws IOException {
        Files.createDirectories(out);
        try (Stream<Path> old = Files.list(out)) {
            for (Path so : old.filter(p -> p.toString().endsWith(".so")).toList()) {
                Files.delete(so);
            }
        }
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
        if (names.stream().noneMatch(n -> n.contains("netty_tcnative"))) {
            throw new NoSuchFileException(lib.toString(), null,
                    "no netty_tcnative library in the jars (found " + names + ")");
        }
        return names;
    }
}
