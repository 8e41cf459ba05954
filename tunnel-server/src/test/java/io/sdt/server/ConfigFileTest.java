package io.sdt.server;

import io.sdt.core.ServerConfig;
import io.sdt.core.ClientConfig;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.link.Token;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.server.config.ConfigException;
import io.sdt.server.config.ConfigReader;
import io.sdt.server.config.ConfigWriter;
import io.sdt.server.config.NodeConfig;
import io.sdt.server.config.Secret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The configuration file: every example in examples/ means what its flags mean, invalid files
 * report every problem with its path, secrets never show.
 */
class ConfigFileTest {

    private static final Path EXAMPLES = Path.of("..", "examples");

    @TempDir
    Path dir;

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            List<Path> all = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            assertTrue(all.size() >= 7, "examples for every mode: " + all);
            return all.stream();
        }
    }

    /** The {@code # Flags: sdt ...} command line in an example's header, split like a shell would. */
    static List<String> flagsOf(Path example) throws IOException {
        StringBuilder line = new StringBuilder();
        boolean in = false;
        for (String l : Files.readAllLines(example)) {
            if (l.startsWith("# Flags: sdt ")) {
                in = true;
                l = l.substring("# Flags: sdt ".length());
            } else if (in) {
                l = l.replaceFirst("^#\\s*", "");
            } else {
                continue;
            }
            boolean more = l.endsWith("\\");
            line.append(more ? l.substring(0, l.length() - 1) : l).append(' ');
            if (!more) {
                break;
            }
        }
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toString().strip().toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
            } else if (c == ' ' && !quoted) {
                if (!w.isEmpty()) {
                    words.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(c);
            }
        }
        if (!w.isEmpty()) {
            words.add(w.toString());
        }
        return words;
    }

    /** A spec without the text the operator typed: what the node runs. */
    static TunnelSpec normal(TunnelSpec t) {
        return new TunnelSpec(t.direction(), t.udp(), t.bind(), t.target(), t.maxChannels(), t.idle(), t.push(), t.peer(),
                t.recordMax(), t.spoolMax(), t.durable(), t.relp(), "");
    }

    static List<TunnelSpec> normal(List<TunnelSpec> specs) {
        return specs.stream().map(ConfigFileTest::normal).sorted(Comparator.comparing(TunnelSpec::toString)
                .thenComparing(t -> t.bind().toString()).thenComparing(t -> String.valueOf(t.target()))
                .thenComparing(t -> t.direction().name())).toList();
    }

    @ParameterizedTest
    @MethodSource("examples")
    void everyExampleMeansWhatItsFlagsMean(Path example) throws Exception {
        NodeConfig file = ConfigReader.read(example);
        List<String> flags = flagsOf(example);
        if (flags.isEmpty()) {
            assertTrue(example.getFileName().toString().startsWith("container"), example + " has no '# Flags:' line");
            return;
        }
        NodeConfig fromFlags;
        if (flags.getFirst().equals("server")) {
            ServerCommand cmd = new ServerCommand();
            new CommandLine(cmd).parseArgs(flags.subList(1, flags.size()).toArray(String[]::new));
            fromFlags = cmd.nodeConfig();
        } else {
            ClientCommand cmd = new ClientCommand();
            new CommandLine(cmd).parseArgs(flags.subList(1, flags.size()).toArray(String[]::new));
            fromFlags = cmd.nodeConfig();
        }
        assertEquals(fromFlags.role(), file.role());
        assertEquals(fromFlags.listen(), file.listen());
        assertEquals(fromFlags.servers(), file.servers());
        assertEquals(fromFlags.links(), file.links());
        assertEquals(fromFlags.tokenFile(), file.tokenFile());
        assertEquals(fromFlags.tls(), file.tls());
        assertEquals(fromFlags.allowTarget(), file.allowTarget());
        assertEquals(fromFlags.allowBind(), file.allowBind());
        assertEquals(fromFlags.proxyAuthFile(), file.proxyAuthFile());
        assertEquals(fromFlags.admin(), file.admin());
        assertEquals(fromFlags.vpn() == null ? null : fromFlags.vpn().networks(),
                file.vpn() == null ? null : file.vpn().networks());
        assertEquals(fromFlags.vpn() == null ? null : fromFlags.vpn().routes(),
                file.vpn() == null ? null : file.vpn().routes());
        assertEquals(normal(fromFlags.tunnels()), normal(file.tunnels()), "the same tunnels");
    }

    /** The examples, and the configurations of docker/docker-compose.yml. */
    static Stream<Path> allConfigs() throws IOException {
        try (Stream<Path> docker = Files.list(Path.of("..", "docker", "config"))) {
            return Stream.concat(examples(), docker.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream());
        }
    }

    @ParameterizedTest
    @MethodSource("allConfigs")
    void printConfigReadsBackToTheSameConfiguration(Path example) {
        NodeConfig once = ConfigReader.read(example);
        String printed = ConfigWriter.write(once);
        NodeConfig twice = ConfigReader.parse("printed", printed, name -> null);
        assertEquals(printed, ConfigWriter.write(twice), "printing is stable");
        assertEquals(normal(once.tunnels()), normal(twice.tunnels()));
        assertEquals(once.allowTarget(), twice.allowTarget());
        assertEquals(once.drainTimeout(), twice.drainTimeout());
    }

    @Test
    void aFileStartsTheSameClientAsTheEquivalentFlags() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        Path yaml = Files.writeString(dir.resolve("c.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token_file: token, window: 8m}
                policy: {allow_target: ["10.0.0.0/8:*"]}
                tunnels:
                  - {bind: 0, target: "127.0.0.1:80"}
                  - {direction: remote, protocol: udp, bind: "127.0.0.1:5353", target: "127.0.0.1:53", idle: 5s}
                  - {mode: dynamic, bind: 1080, max: 9}
                  - {direction: remote, mode: dynamic, bind: 1081}
                """);
        ClientConfig fromFile = NodeSetup.client(ConfigReader.read(yaml), NodeSetup.FILE);
        ClientCommand cmd = new ClientCommand();
        new CommandLine(cmd).parseArgs("--server", "127.0.0.1:7000", "--token-file", token.toString(), "--window", "8m",
                "--allow-target", "10.0.0.0/8:*", "-L", "0:127.0.0.1:80", "-R", "127.0.0.1:5353:127.0.0.1:53/udp,idle=5s",
                "-D", "1080,max=9", "-R", "1081");
        ClientConfig fromFlags = cmd.config();
        assertEquals(normal(fromFlags.tunnels()), normal(fromFile.tunnels()));
        assertEquals(fromFlags.server(), fromFile.server());
        assertEquals(fromFlags.token().toString(), fromFile.token().toString());
        assertEquals(fromFlags.settings(), fromFile.settings());
        assertEquals(fromFlags.exitPolicy().toString(), fromFile.exitPolicy().toString());
        assertEquals(fromFlags.transport(), fromFile.transport());
    }

    @Test
    void aTunnelsProxyProtocolKeyIsTheSpecOption() throws Exception {
        Path yaml = Files.writeString(dir.resolve("pp.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token: "0123456789abcdef0123456789abcdef"}
                tunnels:
                  - {bind: 8080, target: "web:80", proxy_protocol: true}
                  - {bind: 8081, target: "web:80"}
                """);
        List<TunnelSpec> t = ConfigReader.read(yaml).tunnels();
        assertTrue(t.get(0).proxyProtocol());
        assertFalse(t.get(1).proxyProtocol());
        Path bad = Files.writeString(dir.resolve("ppb.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token: "0123456789abcdef0123456789abcdef"}
                tunnels:
                  - {bind: 8080, target: "web:80", proxy_protocol: yes-please}
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(bad));
        assertTrue(e.getMessage().contains("tunnels[0].proxy_protocol: expected true or false"), e.getMessage());
    }

    @Test
    void aDynamicTunnelsOptimisticKeyIsTheSpecOptionAndPrintsBack() throws Exception {
        Path yaml = Files.writeString(dir.resolve("opt.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token: "0123456789abcdef0123456789abcdef"}
                tunnels:
                  - {mode: dynamic, bind: 1080, optimistic: true}
                  - {mode: dynamic, bind: 1081}
                  - {bind: 8080, target: "web:80", proxy_protocol: true}
                  - {direction: remote, mode: dynamic, bind: 1082, optimistic: true}
                policy: {allow_target: ["*"]}
                """);
        NodeConfig read = ConfigReader.read(yaml);
        List<TunnelSpec> t = read.tunnels();
        assertTrue(t.get(0).optimistic());
        assertFalse(t.get(1).optimistic());
        // --print-config keeps both options: reading its output back gives the same tunnels
        String printed = ConfigWriter.write(read);
        assertTrue(printed.contains("optimistic: true"), printed);
        assertTrue(printed.contains("proxy_protocol: true"), printed);
        List<TunnelSpec> back = ConfigReader.parse("printed.yaml", printed, name -> null).tunnels();
        assertTrue(back.get(0).optimistic());
        assertFalse(back.get(1).optimistic());
        assertTrue(back.get(2).proxyProtocol());
        assertTrue(back.get(3).optimistic() && back.get(3).direction() == TunnelSpec.Direction.REMOTE);

        for (String entry : List.of("{bind: 8080, target: \"web:80\", optimistic: true}",
                "{direction: remote, bind: 8080, target: \"web:80\", optimistic: true}")) {
            Path bad = Files.writeString(dir.resolve("optb.yaml"), """
                    node: client
                    link: {server: "127.0.0.1:7000", token: "0123456789abcdef0123456789abcdef"}
                    tunnels:
                      - %s
                    """.formatted(entry));
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(bad));
            assertTrue(e.getMessage().contains("tunnels[0].optimistic: applies to a dynamic tunnel only"),
                    e.getMessage());
        }
        Path notBoolean = Files.writeString(dir.resolve("optc.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token: "0123456789abcdef0123456789abcdef"}
                tunnels:
                  - {mode: dynamic, bind: 1080, optimistic: sure}
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(notBoolean));
        assertTrue(e.getMessage().contains("tunnels[0].optimistic: expected true or false"), e.getMessage());
    }

    @Test
    void adminTakesAnAddressOrAListenerWithATokenFile() throws Exception {
        Path token = Files.writeString(dir.resolve("admin-token"), "s3cret-admin-token\n");
        Path yaml = Files.writeString(dir.resolve("admin.yaml"), """
                node: server
                link: {listen: 7000, token: "0123456789abcdef0123456789abcdef"}
                admin:
                  listen: 127.0.0.1:9100
                  token_file: admin-token
                """);
        NodeConfig read = ConfigReader.read(yaml);
        assertEquals("127.0.0.1:9100", read.admin());
        assertEquals(token, read.adminTokenFile(), "relative to the file");
        NodeSetup.Admin admin = NodeSetup.admin(read, NodeSetup.FILE);
        assertEquals("s3cret-admin-token", admin.token(), "one line, without its newline");
        assertEquals(9100, admin.address().port());
        // the flags mean the same
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs("--listen", "7000", "--token-file", token.toString(), "--admin", "127.0.0.1:9100",
                "--admin-token-file", token.toString());
        assertEquals(read.adminTokenFile(), cmd.nodeConfig().adminTokenFile());
        // --print-config writes the mapping, and it reads back the same; the address alone stays a scalar
        String written = io.sdt.server.config.ConfigWriter.write(read);
        assertTrue(written.contains("admin:\n  listen: \"127.0.0.1:9100\"\n  token_file: "), written);
        NodeConfig again = ConfigReader.parse("w.yaml", written, k -> null);
        assertEquals(read.admin(), again.admin());
        assertEquals(read.adminTokenFile(), again.adminTokenFile());
        assertTrue(io.sdt.server.config.ConfigWriter.write(ConfigReader.parse("s.yaml",
                "node: server\nlink: {listen: 7000}\nadmin: 9100\n", k -> null)).contains("admin: \"9100\""));

        assertProblem(problems("node: server\nlink: {listen: 7000}\nadmin: {listen: 9100, color: red}\n"),
                "admin.color", "unknown key");
        assertProblem(problems("node: server\nlink: {listen: 7000}\nadmin: {token_file: t}\n"), "admin.listen",
                "missing");
        assertProblem(problems("node: server\nlink: {listen: 7000}\nadmin: [9100]\n"), "admin",
                "expected a single value");
    }

    @Test
    void linkServersAndLinksAreTheRepeatedServerFlagAndLinks() throws Exception {
        Path yaml = Files.writeString(dir.resolve("fleet.yaml"), """
                node: client
                link:
                  servers: ["a.example:7000", "wss://b.example/tunnel"]
                  links: 2
                  token: "0123456789abcdef0123456789abcdef"
                  proxy: none
                tunnels: [{bind: 8080, target: "web:80"}]
                """);
        NodeConfig read = ConfigReader.read(yaml);
        assertEquals(List.of("a.example:7000", "wss://b.example/tunnel"), read.servers());
        ClientConfig fromFile = NodeSetup.client(read, NodeSetup.FILE);
        assertEquals(2, fromFile.links());
        assertEquals(List.of("a.example:7000", "wss://b.example:443/tunnel"),
                fromFile.servers().stream().map(ClientConfig.Endpoint::toString).toList());
        assertEquals(443, fromFile.servers().get(1).address().port());
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        ClientCommand cmd = new ClientCommand();
        new CommandLine(cmd).parseArgs("--server", "a.example:7000", "--server", "wss://b.example/tunnel", "--links", "2",
                "--token-file", token.toString(), "--proxy", "none", "-L", "8080:web:80");
        ClientConfig fromFlags = cmd.config();
        assertEquals(fromFile.servers(), fromFlags.servers());
        assertEquals(fromFile.links(), fromFlags.links());
        // --print-config writes what reads back the same
        String written = io.sdt.server.config.ConfigWriter.write(read);
        assertTrue(written.contains("servers: [\"a.example:7000\", \"wss://b.example/tunnel\"]"), written);
        assertTrue(written.contains("links: 2"), written);
        assertEquals(read.servers(), ConfigReader.parse("w.yaml", written, k -> null).servers());

        assertProblem(problems("node: client\nlink: {server: \"a:1\", servers: [\"b:1\"]}\n"), "link",
                "give server or servers, not both");
        assertProblem(problems("node: client\nlink: {servers: \"a:1\"}\n"), "link.servers", "expected a list");
        assertProblem(problems("node: client\nlink: {servers: []}\n"), "link.servers", "one or more servers");
        assertProblem(problems("node: client\nlink: {server: \"a:1\", links: many}\n"), "link.links",
                "expected a number of links");
        assertProblem(problems("node: server\nlink: {listen: 7000, links: 2}\n"), "link.links", "is for a client");
        assertProblem(problems("node: client\nlink: {token: x}\n"), "link.server", "required");
    }

    @Test
    void linkProxyIsTheProxyFlagAndIsWrittenWithoutItsPassword() throws Exception {
        Path yaml = Files.writeString(dir.resolve("x.yaml"), """
                node: client
                link: {server: "tunnel.example:7000", token: "0123456789abcdef0123456789abcdef", proxy: "http://bob:hunter2@proxy.corp:3128"}
                """);
        NodeConfig read = ConfigReader.read(yaml);
        ClientConfig c = NodeSetup.client(read, NodeSetup.FILE);
        assertEquals(io.sdt.core.link.EgressProxy.parse("http://bob:hunter2@proxy.corp:3128"), c.server().proxy());
        String written = io.sdt.server.config.ConfigWriter.write(read);
        assertTrue(written.contains("proxy: \"http://bob:***@proxy.corp:3128\""), written);
        assertFalse(written.contains("hunter2"), written);
        Path none = Files.writeString(dir.resolve("n.yaml"), """
                node: client
                link: {server: "tunnel.example:7000", token: "0123456789abcdef0123456789abcdef", proxy: none}
                """);
        assertNull(NodeSetup.client(ConfigReader.read(none), NodeSetup.FILE).server().proxy(), "none: directly");
        Path bad = Files.writeString(dir.resolve("b.yaml"), """
                node: client
                link: {server: "tunnel.example:7000", token: "0123456789abcdef0123456789abcdef", proxy: "socks4://p:1"}
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> NodeSetup.client(ConfigReader.read(bad), NodeSetup.FILE));
        assertTrue(e.getMessage().contains("link.proxy: proxy socks4://p:1: the scheme must be"), e.getMessage());
    }

    @Test
    void pushSpoolDirMakesEveryLocalTcpPushTunnelDurableUnlessItNamesItsOwn() throws Exception {
        Path yaml = Files.writeString(dir.resolve("p.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token: "0123456789abcdef0123456789abcdef"}
                push: {spool_dir: spools}
                tunnels:
                  - {mode: push, bind: 5140, target: "logs.example:514"}
                  - {mode: push, bind: 5141, target: "logs.example:514", spool_dir: /var/spool/mine}
                  - {mode: push, bind: 5142, target: "logs.example:2514", relp: both}
                  - {mode: push, protocol: udp, bind: 5143, target: "logs.example:514"}
                  - {bind: 8080, target: "web:80"}
                """);
        List<TunnelSpec> t = ConfigReader.read(yaml).tunnels();
        Path spools = dir.resolve("spools");
        assertEquals(spools.resolve("L-5140-logs.example_514"), t.get(0).durable().dir());
        assertEquals(Path.of("/var/spool/mine"), t.get(1).durable().dir(), "its own spool_dir wins");
        assertEquals(spools.resolve("L-5142-logs.example_2514"), t.get(2).durable().dir(), "relp finds its spool too");
        assertEquals(TunnelSpec.Relp.BOTH, t.get(2).relp());
        assertEquals(null, t.get(3).durable(), "UDP push keeps no spool");
        assertEquals(null, t.get(4).durable(), "not a push tunnel");
    }

    private static List<String> problems(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigReader.parse("t.yaml", yaml, Map.of("SET", "x")::get))
                .problems();
    }

    private static void assertProblem(List<String> problems, String path, String words) {
        assertTrue(problems.stream().anyMatch(p -> (p.startsWith(path + ":") || p.startsWith(path + " "))
                        && p.contains(words)),
                "a problem at " + path + " saying '" + words + "' in " + problems);
    }

    @Test
    void anInvalidFileReportsEveryProblemWithItsPath() {
        List<String> p = problems("""
                node: client
                link: {listen: "0.0.0.0:7000", window: [1]}
                policy: {allow_bind: ["*"], allow_target: "10.0.0.0/8"}
                tunnels:
                  - {bind: 8080}
                  - {bind: 8081, target: "h:1", mode: sideways}
                  - {bind: 8082, target: "h:1", prot: udp}
                  - {bind: 8083, target: "h:99999"}
                  - {bind: 8084, target: "h:1", idle: 5s}
                  - {mode: dynamic, bind: 1080, target: "h:1"}
                  - {mode: direct, bind: 5000, target: "h:1", protocol: udp}
                  - "8085:h:1"
                logging: {level: loud, audit: xml}
                shutdown: {drain_timeout: soon}
                """);
        assertProblem(p, "link.server", "required");
        assertProblem(p, "link.listen", "is for a server");
        assertProblem(p, "link.window", "single value");
        assertProblem(p, "policy.allow_bind", "is for a server");
        assertProblem(p, "policy.allow_target", "expected a list");
        assertProblem(p, "tunnels[0].target", "required");
        assertProblem(p, "tunnels[1].mode", "expected one of direct, dynamic, forward, push");
        assertProblem(p, "tunnels[2].prot", "unknown key");
        assertProblem(p, "tunnels[3]", "target port 99999 is out of range");
        assertProblem(p, "tunnels[4]", "idle= applies to /udp tunnels only");
        assertProblem(p, "tunnels[5].target", "a dynamic tunnel has no target");
        assertProblem(p, "tunnels[6].peer", "required");
        assertProblem(p, "tunnels[7]", "expected a mapping");
        assertProblem(p, "logging.level", "loud");
        assertProblem(p, "logging.audit", "xml");
        assertProblem(p, "shutdown.drain_timeout", "bad duration");
        assertEquals(16, p.size(), "one line per problem: " + String.join("\n", p));
    }

    @Test
    void vpnKeysBelongToTheirRoleAndAreChecked() {
        List<String> client = problems("""
                node: client
                link: {server: "h:1", token: tokentokentokentokentoken}
                vpn: {networks: [10.8.0.0/24], mtu: 1400, addresses: [nonsense], colour: blue}
                """);
        assertProblem(client, "vpn.networks", "is for a server");
        assertProblem(client, "vpn.colour", "unknown key");
        List<String> server = problems("""
                node: server
                link: {listen: "0.0.0.0:7000", token: tokentokentokentokentoken}
                vpn: {addresses: [10.8.0.2/24], mtu: big}
                """);
        assertProblem(server, "vpn.addresses", "is for a client");
        assertProblem(server, "vpn.mtu", "expected a number");
    }

    @Test
    void unknownKeysAreRejectedAtEveryLevel() {
        List<String> p = problems("""
                node: server
                nodes: 2
                link: {listen: 7000, tokenfile: x}
                tls: {certificate: x}
                policy: {allow_targets: []}
                logging: {lvl: info}
                shutdown: {drain: 5s}
                """);
        for (String key : List.of("nodes", "link.tokenfile", "tls.certificate", "policy.allow_targets", "logging.lvl",
                "shutdown.drain")) {
            assertProblem(p, key, "unknown key");
        }
        assertEquals(6, p.size(), String.join("\n", p));
    }

    @Test
    void serverKeysAndClientKeysStayApart() {
        List<String> p = problems("""
                node: server
                link: {listen: 7000, server: "h:1"}
                tls: {ca: ca.pem, cert: c.pem}
                policy: {proxy_auth: "u:p"}
                tunnels: []
                """);
        assertProblem(p, "link.server", "is for a client");
        assertProblem(p, "tls.ca", "is for a client");
        assertProblem(p, "tls", "cert and key go together");
        assertProblem(p, "policy.proxy_auth", "is for a client");
        assertProblem(p, "tunnels", "only a client has tunnels");
    }

    @Test
    void notYamlOrNotAMappingIsOneClearError() {
        assertProblem(problems("node: [unclosed"), "t.yaml", "not valid YAML");
        assertProblem(problems("node: client\nnode: server\n"), "t.yaml", "duplicate key");
        assertProblem(problems("- node: client\n"), "t.yaml", "expected a mapping");
        assertProblem(problems(""), "t.yaml", "expected a mapping");
        assertProblem(problems("link: {listen: 7000}\n"), "node", "required");
    }

    @Test
    void environmentVariablesFillValues() {
        NodeConfig c = ConfigReader.parse("t.yaml", """
                node: client
                link: {server: "${SDT_SERVER}:${PORT:-7000}"}
                tunnels: [{bind: "${BIND:-8080}", target: "${TARGET}"}]
                """, Map.of("SDT_SERVER", "gw.example", "TARGET", "web:80")::get);
        assertEquals(List.of("gw.example:7000"), c.servers());
        assertEquals("127.0.0.1:8080", c.tunnels().getFirst().bind().toString());
        assertEquals("web:80", c.tunnels().getFirst().target().toString());
        assertProblem(problems("node: client\nlink: {server: \"${MISSING}:1\"}\n"), "link.server",
                "environment variable MISSING is not set");
    }

    @Test
    void setupReportsEveryProblemOfFilesAndValuesAtOnce() throws Exception {
        Path yaml = Files.writeString(dir.resolve("s.yaml"), """
                node: server
                link: {listen: "0.0.0.0:x", token_file: missing-token, transport: carrier-pigeon, window: 1k}
                policy: {allow_target: ["10.0.0.0/8:22", "10.0.0.0/33:*"], allow_bind: ["127.0.0.1:0-70000"]}
                admin: "127.0.0.1:99999"
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> NodeSetup.server(ConfigReader.read(yaml), NodeSetup.FILE));
        List<String> p = e.problems();
        assertProblem(p, "link.listen", "not a number");
        assertProblem(p, "link.token_file " + dir.resolve("missing-token"), "no such file");
        assertProblem(p, "link.transport", "carrier-pigeon");
        assertProblem(p, "link.window", "");
        assertProblem(p, "policy.allow_target[1]", "");
        assertProblem(p, "policy.allow_bind[0]", "");
        assertProblem(p, "admin", "out of range");
        assertEquals(7, p.size(), String.join("\n", p));
    }

    @Test
    void inlineSecretsNeverShow() throws Exception {
        String token = Token.generate();
        Path yaml = Files.writeString(dir.resolve("c.yaml"), """
                node: client
                link: {server: "h:1", token: "%s"}
                policy: {proxy_auth: "alice:s3cret-pass"}
                tunnels: [{mode: dynamic, bind: 1080}]
                """.formatted(token));
        NodeConfig c = ConfigReader.read(yaml);
        assertEquals(token, c.token().value());
        String printed = ConfigWriter.write(c);
        assertFalse(printed.contains(token), printed);
        assertFalse(printed.contains("s3cret-pass"), printed);
        assertTrue(printed.contains("token: \"" + Secret.MASK + "\""), printed);
        assertFalse(c.toString().contains(token), "the record's toString masks too");
        ClientConfig running = NodeSetup.client(c, NodeSetup.FILE);
        assertNotNull(running.proxyAuth());
        assertFalse(running.proxyAuth().toString().contains("s3cret-pass"));

        // a bad inline token is reported without quoting it
        String bad = "tooshort";
        ConfigException e = assertThrows(ConfigException.class, () -> NodeSetup.client(ConfigReader.parse("t", """
                node: client
                link: {server: "h:1", token: "%s"}
                """.formatted(bad), n -> null), NodeSetup.FILE));
        assertFalse(e.getMessage().contains(bad), e.getMessage());
        assertProblem(e.problems(), "link.token", "");
    }

    @Test
    void relativePathsAreTakenFromTheFilesDirectory() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(sub.resolve("token"), Token.generate());
        Path yaml = Files.writeString(sub.resolve("s.yaml"), "node: server\nlink: {listen: 0, token_file: token}\n");
        ServerConfig c = NodeSetup.server(ConfigReader.read(yaml), NodeSetup.FILE);
        assertNotNull(c.token());
    }

    @Test
    void theCommandLineRunsChecksAndPrints() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), Token.generate());
        Path yaml = Files.writeString(dir.resolve("c.yaml"), """
                node: client
                link: {server: "127.0.0.1:7000", token_file: token}
                tunnels: [{bind: 0, target: "127.0.0.1:80"}]
                """);
        CliTest.Result check = CliTest.run("run", "--check", yaml.toString());
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().contains("ok"));

        CliTest.Result printed = CliTest.run("run", "--print-config", yaml.toString());
        assertEquals(0, printed.code(), printed.err());
        assertTrue(printed.out().contains("token_file: \"" + token.toAbsolutePath() + "\""), printed.out());

        CliTest.Result flags = CliTest.run("client", "--server", "127.0.0.1:7000", "--token-file", token.toString(),
                "-L", "0:127.0.0.1:80", "--print-config");
        assertEquals(0, flags.code(), flags.err());
        assertEquals(normal(ConfigReader.read(yaml).tunnels()),
                normal(ConfigReader.parse("flags", flags.out(), n -> null).tunnels()));

        CliTest.Result missing = CliTest.run("run", dir.resolve("nope.yaml").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope.yaml: no such file"), missing.err());

        Path bad = Files.writeString(dir.resolve("bad.yaml"), "node: client\nlink: {}\ntunnels: [{bind: 1}]\n");
        CliTest.Result invalid = CliTest.run("run", bad.toString());
        assertEquals(2, invalid.code());
        assertTrue(invalid.err().contains("error: link.server: required"), invalid.err());
        assertTrue(invalid.err().contains("error: tunnels[0].target: required"), invalid.err());
    }
}
