package io.sdt.server.dist;

import io.sdt.server.Commands;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Makes the files of the release that come from the jars, under the release's directory: {@code completion/sdt.bash},
 * {@code completion/_sdt}, {@code man/man1/*.1}, and Netty's native libraries from {@code lib/*.jar} into
 * {@code native/}. Run by scripts/release.sh at package time, in one JVM:
 * {@code java -cp DIR/sdt.jar io.sdt.server.dist.DistFiles DIR}.
 */
public final class DistFiles {

    private DistFiles() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: DistFiles DIR");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        write(dir);
        List<String> natives;
        try {
            natives = NativeLibraries.extract(dir.resolve("lib"), dir.resolve("native"));
        } catch (java.nio.file.NoSuchFileException e) {
            System.err.println("dist-files: error: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("dist-files: completion, man pages and " + natives + " in " + dir);
    }

    /** Writes every generated file under {@code dir}, creating the directories. */
    public static void write(Path dir) throws IOException {
        CommandLine sdt = Commands.commandLine();
        Properties build = buildInfo();
        Path completion = Files.createDirectories(dir.resolve("completion"));
        Files.writeString(completion.resolve("sdt.bash"), Completions.bash(sdt));
        Files.writeString(completion.resolve("_sdt"), Completions.zsh(sdt));
        Path man = Files.createDirectories(dir.resolve("man/man1"));
        Map<String, String> pages = ManPages.pages(sdt, build.getProperty("version", "dev"),
                build.getProperty("built", "unknown"));
        for (Map.Entry<String, String> page : pages.entrySet()) {
            Files.writeString(man.resolve(page.getKey()), page.getValue());
        }
    }

    /** What scripts/build-info.sh recorded for {@code sdt --version} (version, built); empty without it. */
    static Properties buildInfo() {
        Properties build = new Properties();
        try (InputStream in = Commands.class.getResourceAsStream("build-info.properties")) {
            if (in != null) {
                build.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return build;
    }
}
