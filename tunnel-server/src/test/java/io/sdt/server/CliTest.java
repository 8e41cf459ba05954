package io.sdt.server;

import io.sdt.core.link.Token;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad command lines: each gives exit code 2 and a message naming the flag or spec. */
class CliTest {

    @TempDir
    static Path dir;
    static Path token;
    static Path shortToken;

    @BeforeAll
    static void tokens() throws Exception {
        token = Files.writeString(dir.resolve("token"), Token.generate() + "\n");
        shortToken = Files.writeString(dir.resolve("short"), "abc\n");
    }

    record Result(int code, String err, String out) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, err.toString(), out.toString());
    }

    static Stream<List<String>> badCommandLines() {
        String t = token.toString();
        List<List<String>> cases = new ArrayList<>();
        cases.add(List.of("", "missing command"));
        cases.add(List.of("frobnicate", "Unmatched argument"));
        cases.add(List.of("server --token-file " + t, "--listen"));
        cases.add(List.of("server --listen abc --token-file " + t, "--listen abc: port 'abc' is not a number"));
        cases.add(List.of("server --listen 127.0.0.1:99999 --token-file " + t, "--listen 127.0.0.1:99999: port 99999 is out of range"));
        cases.add(List.of("server --listen ::1:80 --token-file " + t, "--listen ::1:80: IPv6 addresses go in brackets"));
        cases.add(List.of("server --listen 7000 --token-file /nonexistent/token", "--token-file /nonexistent/token: no such file"));
        cases.add(List.of("server --listen 7000 --token-file " + shortToken, "--token-file " + shortToken + ": token is shorter"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --allow-target 10.0.0.0/33", "--allow-target 10.0.0.0/33"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --allow-bind host:1-x", "--allow-bind host:1-x"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --transport bogus", "--transport: unknown transport 'bogus'"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --cert x.pem", "--cert and --key go together"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --admin bad", "--admin bad: port 'bad' is not a number"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --admin 127.0.0.1:70000", "--admin 127.0.0.1:70000: port 70000 is out of range"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --admin bad", "--admin bad: port 'bad' is not a number"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --admin ::1:9000", "--admin ::1:9000: IPv6 addresses go in brackets"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --frobnicate", "Unknown option: '--frobnicate'"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --window 1k", "--window 1k: window must be between"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --window lots", "--window lots: not a size"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --window 1m --window-max 512k",
                "--window-max 512k: the largest window must be between the initial window"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --window-max 1t", "--window-max 1t: not a size"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --buffer-budget none",
                "--buffer-budget none: not a size"));
        cases.add(List.of("client --server host --token-file " + t, "--server host: expected HOST:PORT"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --vpn-route 10.0.0.0/8", "--vpn-route: needs --vpn"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --vpn 10.8.0.0/31",
                "--vpn: --vpn 10.8.0.0/31: the network needs room for the server and at least one client"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --vpn vpn.example/24", "--vpn vpn.example/24:"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --vpn 10.8.0.0/24 --vpn 10.9.0.0/24",
                "one IPv4 and/or one IPv6 network"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --vpn 10.8.0.0/24 --vpn-route 10.0.0.0/40",
                "--vpn-route 10.0.0.0/40:"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --vpn 10.8.0.0/24 --vpn-dev a/b",
                "--vpn-dev a/b:"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --vpn-dev sdt1", "--vpn-dev: needs --vpn"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --vpn 10.8.0.300/24", "--vpn 10.8.0.300/24:"));
        cases.add(List.of("client --server host:0 --token-file " + t, "--server host:0: port 0 is out of range"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --accept-proxy-protocol 10.0.0.0/33",
                "--accept-proxy-protocol 10.0.0.0/33:"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --accept-proxy-protocol lb.example",
                "--accept-proxy-protocol lb.example:"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80/udp,proxy-protocol",
                "proxy-protocol applies to TCP tunnels that are not push"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,push,proxy-protocol",
                "proxy-protocol applies to TCP tunnels that are not push"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -R 1080,proxy-protocol --allow-target *",
                "a reverse dynamic listener (no target) takes only max=N"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,proxy-protocol=2",
                "proxy-protocol"));
        cases.add(List.of("client --server ws://h:99999/t --token-file " + t, "--server ws://h:99999/t: port 99999 is out of range"));
        cases.add(List.of("client --server wss://u:p@h/t --token-file " + t, "no credentials, query or fragment"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --ws-path tunnel",
                "--ws-path tunnel: a path starts with /"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --proxy ftp://p:21",
                "--proxy: proxy ftp://p:21: the scheme must be http:// (CONNECT) or socks5://"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --proxy http://bob:hunter2@p",
                "--proxy: proxy http://bob:***@p: needs HOST:PORT"));
        cases.add(List.of("client --server h:1 --server h:1 --token-file " + t, "--server h:1: given twice (--links N keeps several links to one server)"));
        cases.add(List.of("client --server h:1 --server h:2 --token-file " + t + " --links 0", "--links 0: expected 1 to 32 links to each server"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --links 65", "--links 65: expected 1 to 64 links to each server"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --links two", "Invalid value for option '--links'"));
        cases.add(List.of("client --server h:1 --server h:nope --token-file " + t, "--server h:nope"));
        cases.add(List.of("client --server h:1 --server h:2 --token-file " + t + " --vpn", "--server: the VPN runs over one link: give one server"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --vpn --links 2", "--links 2: the VPN runs over one link"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L bad", "-L bad: missing target"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --admin-token-file " + t,
                "--admin-token-file " + t + ": there is no admin endpoint to protect (give --admin too)"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --admin 0 --admin-token-file /nonexistent/admin-token",
                "--admin-token-file /nonexistent/admin-token: no such file"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --admin 0 --admin-token-file /dev/null",
                "--admin-token-file /dev/null: is empty"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80/udp,idle=never", "-L 80:h:80/udp,idle=never: bad duration 'never'"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,idle=5s", "idle= applies to /udp tunnels only"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,push,record=9", "record=9 is out of range"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,peer=gw.example:5", "peer must be an IP address"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,push,spool-dir=/proc/sdt-spool",
                "-L 80:h:80,push,spool-dir=/proc/sdt-spool: spool directory /proc/sdt-spool cannot be created"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,push,spool-dir=" + t,
                "spool directory " + t + " cannot be created"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --audit-file /proc/sdt-audit.log",
                "--audit-file / logging.audit_file /proc/sdt-audit.log: cannot write it"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -R 80:h:99999", "-R 80:h:99999: target port 99999 is out of range"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -R 1080", "reverse dynamic) exits at this client: give --allow-target"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -R 1080/udp --allow-target *", "-R 1080/udp: a reverse dynamic listener (no target) takes only max=N"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -D 1080,idle=5s", "-D 1080,idle=5s: unknown option 'idle'"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -D 1:2:3", "-D 1:2:3: expected [BIND_ADDR:]PORT"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -D 1080 --proxy-auth-file /nonexistent/auth", "--proxy-auth-file /nonexistent/auth: no such file"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -D 1080 --proxy-auth-file " + t, "expected one line USER:PASSWORD"));
        cases.add(List.of("client --server h:1 --token-file " + t + " --allow-target 10.0.0.0/40", "--allow-target 10.0.0.0/40"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L 80:h:80,wat=1", "unknown option 'wat'"));
        cases.add(List.of("client --server h:1 --token-file " + t + " -L", "Missing required parameter for option '-L'"));
        cases.add(List.of("run /nonexistent/sdt.yaml", "/nonexistent/sdt.yaml: no such file"));
        cases.add(List.of("run", "Missing required parameter: 'CONFIG.yaml'"));
        cases.add(List.of("server --listen 7000 --token-file " + t + " --drain-timeout soon", "--drain-timeout soon: bad duration"));
        cases.add(List.of("udp-encap-tun --interface tun0 --listen-port 1", "--bind-to-interface"));
        cases.add(List.of("demo --size 0", "--size 0: expected 1..4096"));
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("badCommandLines")
    void badInputExitsWithTwoAndNamesIt(List<String> c) {
        String line = c.get(0);
        Result r = run(line.isEmpty() ? new String[0] : line.split(" "));
        assertEquals(2, r.code(), () -> "exit code of '" + line + "': " + r.err());
        assertTrue(r.err().contains(c.get(1)), () -> "'" + line + "' should say '" + c.get(1) + "' but said: " + r.err());
        assertTrue(r.err().startsWith("sdt"), r.err());
    }

    @ParameterizedTest
    @MethodSource("adminValues")
    void adminAddressIsAcceptedOnServerAndClient(List<String> c) {
        String t = token.toString();
        ServerCommand server = new ServerCommand();
        new picocli.CommandLine(server).parseArgs("--listen", "127.0.0.1:0", "--token-file", t, "--admin", c.get(0));
        server.config();
        assertEquals(c.get(1), server.node.admin().toString());
        ClientCommand client = new ClientCommand();
        new picocli.CommandLine(client).parseArgs("--server", "h:1", "--token-file", t, "--admin", c.get(0));
        client.config();
        assertEquals(c.get(1), client.node.admin().toString());
    }

    static Stream<List<String>> adminValues() {
        return Stream.of(List.of("127.0.0.1:0", "127.0.0.1:0"), List.of("0", "127.0.0.1:0"),
                List.of("9100", "127.0.0.1:9100"), List.of("[::1]:0", "[::1]:0"), List.of(":9100", "0.0.0.0:9100"));
    }

    @Test
    void withoutAdminThereIsNoAdminAddress() {
        ServerCommand server = new ServerCommand();
        new picocli.CommandLine(server).parseArgs("--listen", "127.0.0.1:0", "--token-file", token.toString());
        server.config();
        assertEquals(null, server.node.admin());
    }

    @Test
    void tokenPrintsAFreshToken() {
        var out = new java.io.ByteArrayOutputStream();
        var saved = System.out;
        System.setOut(new java.io.PrintStream(out, true));
        try {
            assertEquals(0, Main.run("token"));
        } finally {
            System.setOut(saved);
        }
        String tok = out.toString().strip();
        assertTrue(tok.matches("[A-Za-z0-9_-]{43}"), tok);
        Token.of(tok);
    }

    /** A command line naming a subcommand builds only that one; help, and the errors that list them, see all. */
    @Test
    void helpListsEveryCommandWhateverTheFirstWord() {
        List<String> all = List.of("server", "client", "run", "demo", "token", "udp-encap-tun", "help");
        for (String[] args : new String[][] {{"--help"}, {"help"}}) {
            Result r = run(args);
            assertEquals(0, r.code(), r.err());
            for (String name : all) {
                assertTrue(r.out().contains("\n  " + name + " "), name + " missing from sdt " + args[0] + ":\n" + r.out());
            }
        }
        for (String name : List.of("server", "client", "run", "demo", "token", "udp-encap-tun")) {
            Result viaHelp = run("help", name);
            Result direct = run(name, "--help");
            assertEquals(0, viaHelp.code(), viaHelp.err());
            assertTrue(viaHelp.out().startsWith("Usage: sdt " + name + " "), viaHelp.out());
            assertEquals(direct.out(), viaHelp.out());
        }
        Result unknown = run("help", "frobnicate");
        assertTrue(unknown.code() != 0 || unknown.err().contains("frobnicate"), unknown.toString());
    }
}
