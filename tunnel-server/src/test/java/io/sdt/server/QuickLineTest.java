package io.sdt.server;

import io.sdt.server.config.NodeConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quick reader of a node's command line means what picocli means by every line it accepts, and leaves every
 * other line to picocli: each flag of {@code sdt server} and {@code sdt client}, in each of its shapes, gives the
 * same configuration (or the same error) both ways.
 */
class QuickLineTest {

    @TempDir
    static Path dir;

    /** The token files {@link CliTest}'s bad lines name. */
    @BeforeAll
    static void tokens() throws Exception {
        CliTest.dir = dir;
        CliTest.tokens();
    }

    /** Flags the quick reader leaves to picocli on purpose; any other flag picocli knows, it must read. */
    private static final Set<String> LEFT_TO_PICOCLI = Set.of("--help", "--version", "--print-config", "client --vpn");

    private static final List<String> SERVER_REQUIRED = List.of("--listen", "7000");
    private static final List<String> CLIENT_REQUIRED = List.of("--server", "127.0.0.1:7000");

    /** What a command line means: its configuration, or the error it gives. */
    private static Object meaning(QuickLine.Command command) {
        try {
            return command.nodeConfig();
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static Object picocliMeaning(List<String> args) {
        CommandLine.ParseResult parsed = Commands.commandLine().parseArgs(args.toArray(String[]::new));
        return meaning((QuickLine.Command) parsed.subcommand().commandSpec().userObject());
    }

    private static Object quickMeaning(List<String> args) {
        QuickLine.Line line = QuickLine.read(args.toArray(String[]::new));
        assertNotNull(line, "the quick reader took " + args);
        return meaning(line.flags());
    }

    /** A value picocli and the configuration accept for this flag. */
    private static String sample(String command, OptionSpec option, int n) {
        String name = option.longestName();
        return switch (name) {
            case "-L", "-R" -> "127.0.0.1:" + (7100 + n) + ":127.0.0.1:22";
            case "-D" -> "127.0.0.1:" + (1080 + n);
            case "--links" -> String.valueOf(2 + n);
            case "--transport" -> "epoll";
            case "--vpn" -> "10.8." + n + ".0/24";
            case "--vpn-route", "--accept-proxy-protocol" -> "10.9." + n + ".0/24";
            default -> option.type() == Path.class ? "/etc/sdt/" + command + n + ".pem" : "v" + n + name;
        };
    }

    static Stream<Arguments> everyFlag() {
        List<Arguments> cases = new ArrayList<>();
        for (String command : List.of("server", "client")) {
            for (OptionSpec option : Commands.commandLine().getSubcommands().get(command).getCommandSpec().options()) {
                String name = option.longestName();
                if (LEFT_TO_PICOCLI.contains(name) || LEFT_TO_PICOCLI.contains(command + " " + name)) {
                    continue;
                }
                List<String> required = command.equals("server") ? SERVER_REQUIRED : CLIENT_REQUIRED;
                cases.add(Arguments.of(command, name, sample(command, option, 1), String.valueOf(option.isMultiValue()),
                        String.valueOf(required.contains(name)), sample(command, option, 2)));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyFlag")
    void everyFlagMeansWhatItMeansToPicocli(String command, String flag, String value, String multi, String required,
            String other) {
        List<String> base = new ArrayList<>(List.of(command));
        if (!Boolean.parseBoolean(required)) {
            base.addAll(command.equals("server") ? SERVER_REQUIRED : CLIENT_REQUIRED);
        }
        List<List<String>> shapes = new ArrayList<>();
        shapes.add(concat(base, flag, value));
        if (flag.length() == 2) {
            shapes.add(concat(base, flag + value));
            List<String> equals = concat(base, flag + "=" + value);
            assertNull(QuickLine.read(equals.toArray(String[]::new)), "-X=VALUE goes to picocli");
        } else {
            shapes.add(concat(base, flag + "=" + value));
        }
        if (Boolean.parseBoolean(multi)) {
            shapes.add(concat(base, flag, value, flag, other));
        }
        for (List<String> args : shapes) {
            assertEquals(picocliMeaning(args), quickMeaning(args), String.join(" ", args));
        }
        if (!Boolean.parseBoolean(multi)) {
            List<String> twice = concat(base, flag, value, flag, other);
            assertNull(QuickLine.read(twice.toArray(String[]::new)), "a single-valued flag twice goes to picocli");
        }
    }

    @Test
    void aFullCommandLineMeansTheSameBothWays() {
        List<String> server = List.of("server", "--listen", "0.0.0.0:7000", "--token-file", "/run/token",
                "--allow-target", "10.0.0.0/8:22", "--allow-target=*.internal", "--allow-bind", "127.0.0.1:*",
                "--admin", "9100", "--drain-timeout", "5s", "--window=1m", "--audit-file", "/var/log/sdt/audit.log");
        List<String> client = List.of("client", "--server", "a.example:7000", "--server=b.example:7000",
                "--links", "2", "-L", "8080:10.0.0.5:80", "-L8081:10.0.0.5:81/udp,idle=30s", "-R", "2222:127.0.0.1:22",
                "-D", "1080", "--token-file", "/run/token", "--proxy", "http://proxy:3128", "--transport", "nio");
        for (List<String> args : List.of(server, client)) {
            Object meaning = quickMeaning(args);
            assertTrue(meaning instanceof NodeConfig, args + " means " + meaning);
            assertEquals(picocliMeaning(args), meaning);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "demo",
        "token",
        "server",
        "client --token-file /run/token",
        "server --listen 7000 --help",
        "server --listen 7000 -h",
        "client --server h:1 --version",
        "server --listen 7000 --print-config",
        "client --server h:1 --vpn",
        "client --server h:1 --vpn 10.8.0.2/24",
        "server --listen 7000 --bogus x",
        "server --listen 7000 stray",
        "server --listen 7000 @args.txt",
        "server --listen @args.txt",
        "server --listen 7000 -- x",
        "server --listen 7000 --token-file",
        "server --listen -7000",
        "server --listen=",
        "client --server h:1 -L=8080:h:80",
        "client --server h:1 --links 0x10",
        "client --server h:1 --links 010",
        "client --server h:1 --links 99999999999",
        "server --listen 7000 --listen 7001",
        "server --listen 7000 --transport nio --transport epoll",
        "run",
        "run --check node.yaml",
        "run node.yaml --print-config",
        "run node.yaml other.yaml",
    })
    void leavesEveryOtherLineToPicocli(String line) {
        assertNull(QuickLine.read(line.isEmpty() ? new String[0] : line.split(" ")), line);
    }

    @Test
    void aPathPicocliWouldRefuseGoesToPicocli() {
        assertNull(QuickLine.read("server", "--listen", "7000", "--token-file", "a\0b"));
    }

    @Test
    void runTakesTheConfigurationFile() {
        QuickLine.Line line = QuickLine.read("run", "/etc/sdt/node.yaml");
        assertEquals(Path.of("/etc/sdt/node.yaml"), line.file());
        assertEquals("run", line.command());
    }

    /** The bad command lines of {@link CliTest}: the same exit code and the same words on stderr both ways. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.sdt.server.CliTest#badCommandLines")
    void badLinesFailAlikeBothWays(List<String> c) {
        String[] args = c.get(0).isEmpty() ? new String[0] : c.get(0).split(" ");
        StringWriter quickErr = new StringWriter();
        StringWriter picocliErr = new StringWriter();
        int quick = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(quickErr, true), args);
        int picocli = Commands.run(new PrintWriter(new StringWriter()), new PrintWriter(picocliErr, true), args);
        assertEquals(picocli, quick, c.get(0));
        assertEquals(picocliErr.toString(), quickErr.toString(), c.get(0));
    }

    private static List<String> concat(List<String> base, String... more) {
        List<String> all = new ArrayList<>(base);
        all.addAll(List.of(more));
        return all;
    }
}
