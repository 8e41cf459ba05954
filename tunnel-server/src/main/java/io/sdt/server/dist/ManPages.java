package io.sdt.server.dist;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Man pages in roff (the man macros) from the command tree: {@code sdt(1)} with the commands, the environment,
 * exit codes and files, and one page per command, {@code sdt-server(1)} and so on, with every option that is not
 * hidden, its parameter and its description as {@code --help} gives it. picocli-codegen's generator writes
 * AsciiDoc only, which would need asciidoctor to become a man page.
 */
public final class ManPages {

    private static final String MANUAL = "sdt manual";

    private static final String[][] ENVIRONMENT = {
        {"SDT_TOKEN", "The shared token, when neither --token-file nor the configuration file gives one."},
        {"SDT_LOG_LEVEL", "Log level: off, error, warn, info (default), debug, trace. At debug the launcher also"
                + " says why it starts without the AOT cache, and the JVM why it refused one."},
        {"SDT_AUDIT_FORMAT", "The audit trail (one event per channel open): text (default) or json."},
        {"SDT_AUDIT_LEVEL", "off turns the audit trail off."},
        {"SDT_JAVA_OPTS", "More JVM options, split on spaces. Naming a collector (-XX:+UseSerialGC, -XX:+UseG1GC)"
                + " replaces the default ParallelGC."},
        {"SDT_AOT", "off starts without the AOT cache (lib/sdt.aot)."},
        {"SDT_AOT_CACHE", "Another AOT cache file."},
        {"SDT_LEAK_DETECTION", "Netty's buffer leak detection level (default disabled)."},
    };

    private ManPages() {
    }

    /**
     * Every page, file name ({@code sdt.1}, {@code sdt-server.1}, ...) to roff source, {@code sdt.1} first.
     * {@code udp-encap-tun.1} is the page of {@code sdt udp-encap-tun} under the name of the launcher that runs it.
     */
    public static Map<String, String> pages(CommandLine sdt, String version, String date) {
        Map<String, String> pages = new LinkedHashMap<>();
        pages.put("sdt.1", top(sdt.getCommandSpec(), version, date));
        for (CommandLine sub : commands(sdt)) {
            CommandSpec spec = sub.getCommandSpec();
            pages.put(page(spec) + ".1", command(spec, page(spec), spec.qualifiedName(), version, date));
        }
        CommandSpec encap = sdt.getSubcommands().get("udp-encap-tun").getCommandSpec();
        pages.put("udp-encap-tun.1", command(encap, "udp-encap-tun", "udp-encap-tun", version, date));
        return pages;
    }

    /** The commands with a page of their own: all but picocli's {@code help}. */
    static List<CommandLine> commands(CommandLine sdt) {
        List<CommandLine> commands = new ArrayList<>();
        for (CommandLine sub : sdt.getSubcommands().values()) {
            if (!sub.getCommandSpec().usageMessage().hidden() && !(sub.getCommand() instanceof CommandLine.HelpCommand)) {
                commands.add(sub);
            }
        }
        return commands;
    }

    /** The page name of a command: {@code sdt-server} for {@code sdt server}. */
    static String page(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    private static String top(CommandSpec spec, String version, String date) {
        StringBuilder r = header(spec, page(spec), version, date);
        r.append(".SH SYNOPSIS\n.B sdt\n.I COMMAND\n[\\fIOPTIONS\\fR]...\n");
        r.append(".SH DESCRIPTION\n").append(text(String.join(" ", spec.usageMessage().description()))).append('\n');
        r.append(".PP\nEach command has its own page and its own \\fB\\-\\-help\\fR. The configuration file of ")
                .append("\\fBsdt run\\fR is described in docs/CONFIG.md, installation and the systemd units in ")
                .append("docs/INSTALL.md.\n");
        r.append(".SH COMMANDS\n");
        for (CommandLine sub : commands(spec.commandLine())) {
            CommandSpec s = sub.getCommandSpec();
            r.append(".TP\n.B ").append(text(s.name())).append('\n')
                    .append(text(String.join(" ", s.usageMessage().description())))
                    .append(" See \\fB").append(text(page(s))).append("\\fR(1).\n");
        }
        options(r, spec);
        r.append(".SH ENVIRONMENT\n");
        for (String[] variable : ENVIRONMENT) {
            r.append(".TP\n.B ").append(text(variable[0])).append('\n').append(text(variable[1])).append('\n');
        }
        r.append(".SH EXIT STATUS\n")
                .append(".TP\n.B 0\nSuccess; a node stopped by SIGTERM after draining.\n")
                .append(".TP\n.B 1\nA runtime failure: authentication failed, an address cannot be bound.\n")
                .append(".TP\n.B 2\nBad flags, tunnel specs or configuration; nothing was started.\n");
        r.append(".SH SIGNALS\n")
                .append(".TP\n.B SIGHUP\n").append(text("sdt run reloads its configuration file.")).append('\n')
                .append(".TP\n.B SIGTERM\n").append(text("A node stops accepting, lets open channels finish for up "
                        + "to its drain timeout (30 s by default), then exits 0.")).append('\n');
        r.append(".SH FILES\n")
                .append(".TP\n.I /etc/sdt/NAME.yaml\n")
                .append(text("The configuration the systemd units sdt@NAME and sdt-vpn@NAME run.")).append('\n')
                .append(".TP\n.I lib/sdt.aot\n")
                .append(text("The JDK's ahead-of-time cache of the release, used when the JVM accepts it.")).append('\n');
        seeAlso(r, spec.commandLine(), null);
        return r.toString();
    }

    /** The page {@code name} of one command, which is run as {@code invocation}. */
    private static String command(CommandSpec spec, String name, String invocation, String version, String date) {
        StringBuilder r = header(spec, name, version, date);
        r.append(".SH SYNOPSIS\n.B ").append(text(invocation)).append('\n');
        if (!spec.options().isEmpty()) {
            r.append("[\\fIOPTIONS\\fR]...\n");
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (!p.hidden()) {
                r.append(".I ").append(text(p.paramLabel())).append('\n');
            }
        }
        r.append(".SH DESCRIPTION\n").append(text(String.join(" ", spec.usageMessage().description()))).append('\n');
        List<PositionalParamSpec> arguments = spec.positionalParameters().stream()
                .filter(p -> !p.hidden() && p.description().length > 0).toList();
        if (!arguments.isEmpty()) {
            r.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : arguments) {
                r.append(".TP\n.I ").append(text(p.paramLabel())).append('\n');
                description(r, p.description());
            }
        }
        options(r, spec);
        seeAlso(r, spec.root().commandLine(), spec);
        return r.toString();
    }

    private static StringBuilder header(CommandSpec spec, String name, String version, String date) {
        String description = String.join(" ", spec.usageMessage().description());
        String summary = description.isEmpty() ? "" : Character.toLowerCase(description.charAt(0))
                + description.substring(1).replaceFirst("\\.\\s.*$|\\.$", "");
        return new StringBuilder()
                .append(".\\\" Generated at build time by io.sdt.server.dist.ManPages from sdt's command line; do not edit.\n")
                .append(".TH ").append(quoted(name.toUpperCase())).append(" 1 ").append(quoted(date)).append(' ')
                .append(quoted("sdt " + version)).append(' ').append(quoted(MANUAL)).append('\n')
                // left-adjusted and unhyphenated: tunnel specs are long words that justification would spread
                .append(".ad l\n.nh\n")
                .append(".SH NAME\n").append(text(name)).append(" \\- ").append(text(summary)).append('\n');
    }

    private static void options(StringBuilder r, CommandSpec spec) {
        List<OptionSpec> options = spec.options().stream().filter(o -> !o.hidden()).toList();
        if (options.isEmpty()) {
            return;
        }
        r.append(".SH OPTIONS\n");
        for (OptionSpec o : options) {
            r.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String name : o.names()) {
                names.add("\\fB" + text(name) + "\\fR");
            }
            r.append(String.join(", ", names));
            if (o.arity().max() > 0) {
                r.append(" \\fI").append(text(o.paramLabel())).append("\\fR");
            }
            r.append('\n');
            description(r, o.description());
        }
    }

    private static void description(StringBuilder r, String[] lines) {
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                r.append(".br\n");
            }
            r.append(text(lines[i])).append('\n');
        }
    }

    private static void seeAlso(StringBuilder r, CommandLine sdt, CommandSpec self) {
        List<String> refs = new ArrayList<>();
        if (self != null) {
            refs.add("\\fBsdt\\fR(1)");
        }
        for (CommandLine sub : commands(sdt)) {
            if (sub.getCommandSpec() != self) {
                refs.add("\\fB" + text(page(sub.getCommandSpec())) + "\\fR(1)");
            }
        }
        r.append(".SH SEE ALSO\n").append(String.join(",\n", refs)).append('\n');
    }

    /**
     * Text for a roff line: backslashes escaped, every hyphen an ASCII minus ({@code \-}, so options copied out of
     * the page work), words longer than a line may break (without a hyphen) after {@code , / | ] :}, and a line
     * that would start with a control character made plain.
     */
    static String text(String s) {
        StringBuilder t = new StringBuilder();
        for (String word : s.replace('\n', ' ').split(" ", -1)) {
            String w = word.replace("\\", "\\e").replace("-", "\\-");
            if (word.length() > 30) {
                w = w.replaceAll("([,/|\\]:])(?=.)", "$1\\\\:");
            }
            t.append(t.isEmpty() ? "" : " ").append(w);
        }
        return t.indexOf(".") == 0 || t.indexOf("'") == 0 ? "\\&" + t : t.toString();
    }

    private static String quoted(String s) {
        return "\"" + text(s).replace("\"", "\\(dq") + "\"";
    }
}
