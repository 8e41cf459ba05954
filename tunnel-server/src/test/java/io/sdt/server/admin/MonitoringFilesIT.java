package io.sdt.server.admin;

import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.LineReceiver;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.testing.UdpTarget;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.io.File;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * deploy/monitoring against the node: every metric name, label name and literal label value that the
 * Grafana dashboard and the Prometheus alert rules use must be in a real scrape of a server and a client
 * (with a TCP, a UDP and a push tunnel that carried traffic, so the per-tunnel meters and the open
 * histogram exist); and promtool (Debian package {@code prometheus}) accepts the rules and the example
 * configuration, passes the rules' unit tests and parses every dashboard query. Without promtool those
 * parts are skipped, the name check is not.
 */
@ExtendWith(LeakGuard.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MonitoringFilesIT {

    private static final Path DIR = Path.of("..", "deploy", "monitoring");
    private static final Path ALERTS = DIR.resolve("sdt-alerts.yml");
    private static final Path ALERT_TESTS = DIR.resolve("sdt-alerts.test.yml");
    private static final Path DASHBOARD = DIR.resolve("sdt-dashboard.json");
    private static final Path PROMETHEUS_EXAMPLE = DIR.resolve("prometheus.example.yml");
    private static final InetAddress V4 = InetAddress.getLoopbackAddress();
    /** Labels Prometheus adds to every scraped series; {@code up} is its own series. */
    private static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    @Test
    void everyMetricLabelAndValueTheDashboardAndTheAlertsUseIsExported() throws Exception {
        Scrape scrape = scrapeRealNodes();
        Map<String, String> queries = new LinkedHashMap<>(dashboardQueries());
        queries.putAll(alertQueries());
        assertTrue(queries.size() > 40, "found the queries: " + queries.keySet());

        List<String> problems = new ArrayList<>();
        queries.forEach((where, q) -> problems.addAll(scrape.check(where, q)));
        assertEquals(List.of(), problems, "names the node does not export; it exports " + scrape.names());

        // the check bites: a misspelled metric, label and label value are each reported
        assertEquals(1, scrape.check("t", "rate(sdt_link_payload_byte_total[5m])").size());
        assertEquals(1, scrape.check("t", "sum by (instance, direktion) (rate(sdt_link_payload_bytes_total[5m]))").size());
        assertEquals(1, scrape.check("t", "sdt_link_payload_bytes_total{direction=\"to_links\"}").size());
        assertEquals(1, scrape.check("t", "label_values(sdt_links_up, instanse)").size());
    }

    @Test
    void promtoolAcceptsTheAlertRulesTheirUnitTestsAndTheExampleConfig() throws Exception {
        String promtool = promtool();
        String check = run(DIR, promtool, "check", "rules", ALERTS.getFileName().toString());
        assertTrue(check.contains("SUCCESS"), check);
        String test = run(DIR, promtool, "test", "rules", ALERT_TESTS.getFileName().toString());
        assertTrue(test.contains("SUCCESS"), test);
        String config = run(DIR, promtool, "check", "config", PROMETHEUS_EXAMPLE.getFileName().toString());
        assertTrue(config.contains("SUCCESS: 1 rule files found"), config);
    }

    /** Grafana's variables replaced by what they stand for, each dashboard query becomes a recording rule. */
    @Test
    void promtoolParsesEveryDashboardQuery(@TempDir Path tmp) throws Exception {
        String promtool = promtool();
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int n = 0;
        for (Map.Entry<String, String> q : dashboardQueries().entrySet()) {
            String expr = q.getValue().replaceAll("\\$__(rate_interval|interval|range)", "5m")
                    .replaceAll("\\$\\{?\\w+}?", ".*");
            Matcher lv = LABEL_VALUES.matcher(expr);
            if (lv.matches()) {
                expr = "count by (" + lv.group(2) + ") (" + lv.group(1) + ")";
            }
            rules.append("      - record: dashboard:query").append(n++).append('\n')
                    .append("        expr: |\n          ").append(expr.replace("\n", "\n          ")).append('\n');
        }
        Path file = tmp.resolve("dashboard-queries.yml");
        Files.writeString(file, rules);
        String out = run(tmp, promtool, "check", "rules", file.getFileName().toString());
        assertTrue(out.contains("SUCCESS: " + n + " rules found"), out);
    }

    // --- the files

    private static final Pattern LABEL_VALUES = Pattern.compile("\\s*label_values\\((.*),\\s*(\\w+)\\s*\\)\\s*",
            Pattern.DOTALL);

    /** Every PromQL query of the dashboard (and its variables' label_values), by where it is. */
    private static Map<String, String> dashboardQueries() throws IOException {
        Map<String, Object> d = map(Json.parse(Files.readString(DASHBOARD)), "dashboard");
        assertTrue(((Number) d.get("schemaVersion")).intValue() >= 36, "schemaVersion");
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> variables = new HashSet<>();
        for (Object v : list(map(d.get("templating"), "templating").get("list"), "templating.list")) {
            Map<String, Object> var = map(v, "variable");
            variables.add((String) var.get("name"));
            if ("query".equals(var.get("type"))) {
                Object q = var.get("query");
                out.put("variable " + var.get("name"), q instanceof Map<?, ?> m ? (String) m.get("query") : (String) q);
            }
        }
        assertTrue(variables.containsAll(Set.of("datasource", "instance")), "variables " + variables);
        Set<Object> ids = new HashSet<>();
        for (Object p : list(d.get("panels"), "panels")) {
            Map<String, Object> panel = map(p, "panel");
            String title = "panel '" + panel.get("title") + "'";
            assertTrue(ids.add(panel.get("id")), title + ": a unique id");
            if ("row".equals(panel.get("type"))) {
                continue;
            }
            assertEquals("${datasource}", map(panel.get("datasource"), title).get("uid"), title + " datasource");
            List<Object> targets = list(panel.get("targets"), title + " targets");
            assertFalse(targets.isEmpty(), title + " has queries");
            for (Object t : targets) {
                Map<String, Object> target = map(t, title);
                out.put(title + " " + target.get("refId"), (String) target.get("expr"));
            }
        }
        return out;
    }

    /** Every alert's expr, by alert name; each alert has for, a severity, a summary and a description. */
    private static Map<String, String> alertQueries() throws IOException {
        Map<String, Object> doc = map(new Load(LoadSettings.builder().build()).loadFromString(Files.readString(ALERTS)),
                "rules file");
        Map<String, String> out = new LinkedHashMap<>();
        for (Object g : list(doc.get("groups"), "groups")) {
            for (Object r : list(map(g, "group").get("rules"), "rules")) {
                Map<String, Object> rule = map(r, "rule");
                String name = "alert " + rule.get("alert");
                assertTrue(rule.get("for") instanceof String, name + " has for:");
                assertTrue(Set.of("critical", "warning", "info").contains(map(rule.get("labels"), name).get("severity")),
                        name + " severity");
                assertTrue(map(rule.get("annotations"), name).keySet().containsAll(Set.of("summary", "description")),
                        name + " annotations");
                assertTrue(out.put(name, (String) rule.get("expr")) == null, name + " once");
            }
        }
        return out;
    }

    // --- the scrape

    /** A server and a client on loopback with a TCP, a UDP and a push tunnel that each carried something. */
    private static Scrape scrapeRealNodes() throws Exception {
        Transport transport = Transport.select("auto");
        try (Admins admins = new Admins(transport); Nodes nodes = new Nodes(transport); Targets echo = Targets.echo();
             UdpTarget udp = UdpTarget.echo(V4); LineReceiver logs = new LineReceiver()) {
            SdtServer server = nodes.server(b -> b.allowTarget("127.0.0.1:" + echo.port())
                    .allowTarget("127.0.0.1:" + udp.port()).allowTarget("127.0.0.1:" + logs.port()));
            SdtClient client = nodes.client(server, b -> b.forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + echo.port())
                    .forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + udp.port() + "/udp")
                    .forward(Direction.LOCAL, "127.0.0.1:0:127.0.0.1:" + logs.port() + ",push"));
            InetSocketAddress clientAdmin = admins.start(NodeView.of(client));
            InetSocketAddress serverAdmin = admins.start(NodeView.of(server));

            byte[] sent = "hello".getBytes(StandardCharsets.UTF_8);
            try (Socket s = new Socket()) {
                s.connect(client.tunnels().get(0).boundAddress(), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write(sent);
                s.shutdownOutput();
                assertArrayEquals(sent, s.getInputStream().readAllBytes(), "echoed through the TCP tunnel");
            }
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(V4, 0))) {
                s.setSoTimeout(10_000);
                s.send(new DatagramPacket(sent, sent.length, client.tunnels().get(1).boundAddress()));
                DatagramPacket p = new DatagramPacket(new byte[64], 64);
                s.receive(p);
                assertEquals("hello", new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
            }
            try (Socket s = new Socket()) {
                s.connect(client.tunnels().get(2).boundAddress(), 5000);
                s.getOutputStream().write("a record\n".getBytes(StandardCharsets.UTF_8));
            }
            Await.until("the push record at the log receiver", Duration.ofSeconds(20), () -> logs.total.get() == 1);

            Scrape all = new Scrape();
            all.add(scrape(admins, clientAdmin));
            all.add(scrape(admins, serverAdmin));
            return all;
        }
    }

    private static PrometheusText scrape(Admins admins, InetSocketAddress at) throws Exception {
        HttpResponse<String> r = admins.send(at, "GET", "/metrics");
        assertEquals(200, r.statusCode());
        return PrometheusText.parse(r.body());
    }

    /** The sample names of the scrapes ({@code _bucket}, {@code _sum}, {@code _count} included) and their label sets. */
    private static final class Scrape {

        private final Map<String, List<Map<String, String>>> series = new HashMap<>();

        void add(PrometheusText m) {
            m.samples.forEach(s -> series.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s.labels()));
        }

        Set<String> names() {
            return new TreeSet<>(series.keySet());
        }

        /** What in {@code query} the scrapes do not have. */
        List<String> check(String where, String query) {
            List<String> problems = new ArrayList<>();
            Matcher lv = LABEL_VALUES.matcher(query);
            PromQl q = PromQl.parse(lv.matches() ? lv.group(1) : query);
            if (lv.matches()) {
                q.grouping.add(lv.group(2));
            }
            if (q.selectors.isEmpty()) {
                problems.add(where + ": no metric in " + query);
            }
            Set<String> labelsOfQuery = new HashSet<>(TARGET_LABELS);
            for (PromQl.Selector s : q.selectors) {
                if (s.metric().equals("up")) {
                    continue; // Prometheus's own: job and instance only
                }
                List<Map<String, String>> have = series.get(s.metric());
                if (have == null) {
                    problems.add(where + ": metric " + s.metric() + " is not exported");
                    continue;
                }
                have.forEach(l -> labelsOfQuery.addAll(l.keySet()));
                for (PromQl.LabelMatcher m : s.matchers()) {
                    if (TARGET_LABELS.contains(m.label())) {
                        continue;
                    }
                    if (have.stream().noneMatch(l -> l.containsKey(m.label()))) {
                        problems.add(where + ": " + s.metric() + " has no label " + m.label());
                    } else if (!m.value().contains("$") && m.op().equals("=")
                            && have.stream().noneMatch(l -> m.value().equals(l.get(m.label())))) {
                        problems.add(where + ": " + s.metric() + " has no " + m.label() + "=\"" + m.value() + "\"");
                    } else if (!m.value().contains("$") && m.op().equals("=~")
                            && have.stream().noneMatch(l -> l.getOrDefault(m.label(), "").matches(m.value()))) {
                        problems.add(where + ": " + s.metric() + " has no " + m.label() + " matching " + m.value());
                    }
                }
            }
            for (String g : q.grouping) {
                if (!labelsOfQuery.contains(g)) {
                    problems.add(where + ": no metric of the query has the label " + g + " (by/on/without)");
                }
            }
            return problems;
        }
    }

    /**
     * The metric selectors and grouping labels of a PromQL expression, found by a tokenizer that knows
     * strings, ranges, label matchers, functions, keywords and grouping lists; any other identifier is a
     * metric name. (promtool checks the syntax; this finds the names.)
     */
    static final class PromQl {

        record LabelMatcher(String label, String op, String value) {
        }

        record Selector(String metric, List<LabelMatcher> matchers) {
        }

        private static final Set<String> GROUPING = Set.of("by", "without", "on", "ignoring", "group_left",
                "group_right");
        /** Operators, and the aggregations, which may be followed by {@code by (...)} before their parenthesis. */
        private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "atan2", "inf",
                "nan", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
                "topk", "quantile", "limitk", "limit_ratio");

        final List<Selector> selectors = new ArrayList<>();
        final Set<String> grouping = new HashSet<>();
        private final String s;
        private int i;

        private PromQl(String s) {
            this.s = s;
        }

        static PromQl parse(String expr) {
            PromQl p = new PromQl(expr);
            p.run();
            return p;
        }

        private void run() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '"' || c == '\'' || c == '`') {
                    string();
                } else if (c == '#') {
                    while (i < s.length() && s.charAt(i) != '\n') {
                        i++;
                    }
                } else if (c == '[') {
                    i = s.indexOf(']', i) + 1; // a range or subquery: durations only
                    if (i == 0) {
                        throw new IllegalArgumentException("unclosed [ in " + s);
                    }
                } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                    while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                        i++; // a number or a duration (offset 5m)
                    }
                } else if (Character.isLetter(c) || c == '_' || c == ':') {
                    identifier();
                } else if (c == '{') {
                    List<LabelMatcher> ms = matchers();
                    ms.stream().filter(m -> m.label().equals("__name__") && m.op().equals("=")).findFirst()
                            .ifPresent(m -> selectors.add(new Selector(m.value(), ms)));
                } else {
                    i++;
                }
            }
        }

        private void identifier() {
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == ':')) {
                i++;
            }
            String id = s.substring(start, i);
            int next = skipSpace(i);
            char after = next < s.length() ? s.charAt(next) : 0;
            if (GROUPING.contains(id)) {
                if (after == '(') {
                    int close = s.indexOf(')', next);
                    for (String l : s.substring(next + 1, close).split(",")) {
                        if (!l.isBlank()) {
                            grouping.add(l.strip());
                        }
                    }
                    i = close + 1;
                }
            } else if (after == '(' || KEYWORDS.contains(id.toLowerCase())) {
                return; // a function or an aggregation, or an operator
            } else if (after == '{') {
                i = next;
                selectors.add(new Selector(id, matchers()));
            } else {
                selectors.add(new Selector(id, List.of()));
            }
        }

        private List<LabelMatcher> matchers() {
            List<LabelMatcher> out = new ArrayList<>();
            i++; // {
            while (true) {
                i = skipSpace(i);
                if (s.charAt(i) == '}') {
                    i++;
                    return out;
                }
                if (s.charAt(i) == ',') {
                    i++;
                    continue;
                }
                int start = i;
                while (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_') {
                    i++;
                }
                String label = s.substring(start, i);
                i = skipSpace(i);
                int opStart = i;
                while ("=!~".indexOf(s.charAt(i)) >= 0) {
                    i++;
                }
                String op = s.substring(opStart, i);
                i = skipSpace(i);
                if (label.isEmpty() || op.isEmpty()) {
                    throw new IllegalArgumentException("bad label matcher at " + start + " in " + s);
                }
                out.add(new LabelMatcher(label, op, string()));
            }
        }

        /** Reads a quoted string at {@code i}; returns its value (escapes undone for \" and \\). */
        private String string() {
            char quote = s.charAt(i++);
            StringBuilder v = new StringBuilder();
            while (s.charAt(i) != quote) {
                char c = s.charAt(i++);
                if (c == '\\' && quote != '`') {
                    c = s.charAt(i++);
                    if (c != '"' && c != '\'' && c != '\\') {
                        v.append('\\');
                    }
                }
                v.append(c);
            }
            i++;
            return v.toString();
        }

        private int skipSpace(int at) {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
                at++;
            }
            return at;
        }
    }

    // --- promtool

    private static String promtool() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "promtool");
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        assumeTrue(false, "promtool missing: install the Debian package prometheus");
        return null;
    }

    /** Runs a command in {@code dir} for at most 60 s; asserts it exits 0; returns its output. */
    private static String run(Path dir, String... command) throws Exception {
        Path out = Files.createTempFile("promtool", ".out");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
            }
            String text = Files.readString(out);
            assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + text);
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        assertTrue(o instanceof Map, what + " is an object");
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, String what) {
        assertTrue(o instanceof List, what + " is a list");
        return (List<Object>) o;
    }
}
