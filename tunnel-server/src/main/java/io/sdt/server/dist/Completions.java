package io.sdt.server.dist;

import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Shell completion for {@code sdt} and {@code udp-encap-tun}: the bash script picocli's {@link AutoComplete}
 * generates from the command tree, and a zsh completion function that runs the same script through zsh's
 * bashcompinit.
 */
public final class Completions {

    private Completions() {
    }

    /**
     * The bash completion script: picocli's, plus {@code udp-encap-tun} (the release's launcher for
     * {@code sdt udp-encap-tun}) completed by the function picocli made for that subcommand.
     */
    public static String bash(CommandLine sdt) {
        String script = AutoComplete.bash("sdt", sdt);
        String encap = function(sdt, "udp-encap-tun");
        if (!script.contains("function " + encap + "()")) {
            throw new IllegalStateException("picocli's script has no " + encap + ": its naming changed");
        }
        return script + "\n# bin/udp-encap-tun runs `sdt udp-encap-tun`: the same completions\n"
                + "complete -F " + encap + " -o default udp-encap-tun\n";
    }

    /**
     * The zsh completion function {@code _sdt}, for a directory on {@code $fpath}. zsh loads the file as the body
     * of {@code _sdt} at the first TAB after {@code sdt} or {@code udp-encap-tun}: it defines the bash functions,
     * whose {@code complete} calls bashcompinit turns into {@code compdef}s for every later TAB, and completes
     * that first TAB itself.
     */
    public static String zsh(CommandLine sdt) {
        String bash = bash(sdt);
        return "#compdef sdt udp-encap-tun\n"
                + "# zsh completion for sdt and udp-encap-tun: the bash completion picocli generates (sdt.bash), run\n"
                + "# through zsh's bashcompinit. Install: copy this file, named _sdt, into a directory on $fpath\n"
                + "# (e.g. /usr/local/share/zsh/site-functions) and start a new zsh (compinit must run, as it does\n"
                + "# in most set-ups). Generated at build time from sdt's command line; do not edit.\n"
                + "autoload -U +X bashcompinit && bashcompinit\n"
                // zsh parses this whole file before running it, so the alias picocli's script makes for compopt
                // comes too late for the functions below: a function stands in (bash's compopt only sets
                // display options, which zsh's completion sets itself)
                + "compopt() { return 0; }\n"
                + bash
                + "\n# this first TAB: complete it now that the functions exist\n"
                + "if [[ $service == udp-encap-tun ]]; then\n"
                + "  _bash_complete -F " + function(sdt, "udp-encap-tun") + " -o default\n"
                + "else\n"
                + "  _bash_complete -F _complete_sdt -o default\n"
                + "fi\n";
    }

    /** The name picocli gives the completion function of {@code sdt SUBCOMMAND}. */
    static String function(CommandLine sdt, String subcommand) {
        return "_picocli_" + sdt.getCommandName() + "_" + subcommand.replaceAll("[^A-Za-z0-9]", "");
    }
}
