package io.sdt.core.tunnel.push.relp;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The offers of a RELP {@code open} and of its answer: lines of {@code NAME[=VALUE[,VALUE]...]}.
 * Ours are fixed: RELP version 0 (what librelp speaks), the {@code syslog} command, and our name.
 */
final class Offers {

    /** What we offer, as client in {@code open} and as server after {@code 200 OK}. */
    static final String OURS = "relp_version=0\nrelp_software=sdt\ncommands=syslog";

    private Offers() {
    }

    /** Parses offer lines; unknown names are kept (and ignored by the callers), as the specification asks. */
    static Map<String, List<String>> parse(String text) {
        Map<String, List<String>> offers = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            String name = eq < 0 ? line : line.substring(0, eq);
            List<String> values = eq < 0 ? List.of() : Arrays.asList(line.substring(eq + 1).split(","));
            offers.put(name, values);
        }
        return offers;
    }

    /** Why these offers cannot carry syslog messages, or null if they can. */
    static String unusable(Map<String, List<String>> offers) {
        List<String> version = offers.get("relp_version");
        if (version == null || version.isEmpty() || !version.getFirst().matches("[0-9]{1,9}")) {
            return "no relp_version offer";
        }
        List<String> commands = offers.get("commands");
        if (commands == null || !commands.contains("syslog")) {
            return "the syslog command is not offered";
        }
        return null;
    }
}
