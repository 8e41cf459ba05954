package io.sdt.server.dist;

import io.sdt.server.Commands;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The completion scripts and man pages name every command and every option of the command line, read from its
 * model, so an option added anywhere shows up without touching this test; the bash script completes in bash,
 * and the pages are roff that groff takes without a warning.
 */
class DistFilesTest {

    @TempDir
    static Path dir;
    static CommandLine sdt;
    static String bash;

    @BeforeAll
    static void write() throws IOException {
        DistFiles.write(dir);
        sdt = Commands.commandLine();
        bash = Files.readString(dir.resolve("completion/sdt.bash"));
    }

    /** Every command with its name, and every option that is not hidden. */
    private static List<CommandLine> commands() {
        return ManPages.commands(sdt);
    }

    private static List<String> optionNames(CommandSpec spec) {
        List<String> names = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (!o.hidden()) {
                names.addAll(List.of(o.names()));
            }
        }
        return names;
    }

    @Test
    void theBashScriptOffersEverySubcommandAndItsOptions() {
        Matcher top = Pattern.compile("(?s)function _picocli_sdt\\(\\) \\{.*?local commands=\"([^\"]*)\"").matcher(bash);
        assertTrue(top.find(), "the top-level function lists the commands");
        List<String> offered = List.of(top.group(1).split(" "));
        assertEquals(List.copyOf(sdt.getSubcommands().keySet()), offered);
        assertTrue(commands().size() >= 6, "commands: " + commands());
        for (CommandLine sub : commands()) {
            String function = Completions.function(sdt, sub.getCommandName());
            Matcher body = Pattern.compile("(?s)function " + Pattern.quote(function) + "\\(\\) \\{(.*?)\n}").matcher(bash);
            assertTrue(body.find(), "bash has " + function);
            for (String name : optionNames(sub.getCommandSpec())) {
                assertTrue(body.group(1).contains("'" + name + "'"), function + " offers " + name);
            }
        }
        assertTrue(optionNames(sdt.getSubcommands().get("server").getCommandSpec()).contains("--admin"));
        assertTrue(bash.contains("'--admin'"));
    }

    @Test
    void bashCompletesCommandsOptionsAndUdpEncapTun() throws Exception {
        assertEquals("server", complete("sdt se"));
        assertTrue(List.of(complete("sdt server --adm").split(" ")).contains("--admin"));
        assertEquals("--drain-timeout", complete("sdt client --drain-t"));
        assertEquals("--secret-file", complete("sdt udp-encap-tun --secr"));
        assertEquals("--secret-file", complete("udp-encap-tun --secr"));
    }

    /** What bash's completion offers for the last word of {@code line}, the way readline would ask. */
    private static String complete(String line) throws Exception {
        String script = "source \"$1\"\n"
                + "COMP_LINE=\"$2\"; read -r -a COMP_WORDS <<< \"$2\"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                + "spec=$(complete -p \"${COMP_WORDS[0]}\"); fn=${spec#*-F }; fn=${fn%% *}\n"
                + "\"$fn\" 2>/dev/null; echo \"${COMPREPLY[*]}\"\n"; // compopt complains outside readline
        Result r = run(List.of("bash", "-c", script, "bash", dir.resolve("completion/sdt.bash").toString(), line));
        assertEquals(0, r.exit(), line + ": " + r.out());
        return r.out().strip();
    }

    @Test
    void theZshFileLoadsTheBashScript() throws Exception {
        String zsh = Files.readString(dir.resolve("completion/_sdt"));
        assertTrue(zsh.startsWith("#compdef sdt udp-encap-tun\n"), zsh.lines().findFirst().orElse(""));
        assertTrue(zsh.contains("bashcompinit") && zsh.contains(bash), "zsh runs the bash script through bashcompinit");
        Assumptions.assumeTrue(onPath("zsh"), "zsh is not installed: its syntax check is skipped");
        Result r = run(List.of("zsh", "-n", dir.resolve("completion/_sdt").toString()));
        assertEquals(0, r.exit(), r.out());
    }

    @Test
    void theManPagesNameEveryOptionOfEveryCommand() throws IOException {
        Map<String, String> pages = ManPages.pages(sdt, "1.0", "2026-01-01");
        String top = plain(pages.get("sdt.1"));
        for (CommandLine sub : commands()) {
            CommandSpec spec = sub.getCommandSpec();
            assertTrue(top.contains(spec.name()) && top.contains(ManPages.page(spec) + "(1)"), "sdt.1 names " + spec.name());
            String page = ManPages.page(spec) + ".1";
            assertTrue(Files.isRegularFile(dir.resolve("man/man1").resolve(page)), "written: " + page);
            String text = plain(pages.get(page));
            for (String name : optionNames(spec)) {
                assertTrue(text.contains(name), page + " names " + name);
            }
            for (PositionalParamSpec p : spec.positionalParameters()) {
                assertTrue(p.hidden() || text.contains(p.paramLabel()), page + " names " + p.paramLabel());
            }
        }
        assertTrue(plain(pages.get("sdt-server.1")).contains("--admin"));
        for (String option : optionNames(sdt.getCommandSpec())) {
            assertTrue(top.contains(option), "sdt.1 names " + option);
        }
    }

    /** The roff minus the markup this generator writes: what a reader sees, near enough to find option names. */
    private static String plain(String roff) {
        return roff.replace("\\-", "-").replaceAll("\\\\f[BIRP]", "").replace("\\&", "").replace("\\:", "")
                .replace("\\e", "\\");
    }

    @Test
    void groffRendersEveryPageWithoutAWarning() throws Exception {
        Assumptions.assumeTrue(onPath("groff"), "groff is not installed (Debian: groff-base): the roff check is skipped");
        try (var pages = Files.list(dir.resolve("man/man1"))) {
            for (Path page : pages.sorted().toList()) {
                Result r = run(List.of("groff", "-man", "-Tutf8", "-ww", "-z", "-I", dir.resolve("man").toString(),
                        page.toString()));
                assertEquals(0, r.exit(), page.getFileName() + ": " + r.out());
                assertEquals("", r.out(), page.getFileName() + ": groff warns");
            }
        }
    }

    private static boolean onPath(String command) throws Exception {
        return run(List.of("sh", "-c", "command -v " + command)).exit() == 0;
    }

    record Result(int exit, String out) {
    }

    private static Result run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), command + " did not finish");
        return new Result(p.exitValue(), out);
    }
}
