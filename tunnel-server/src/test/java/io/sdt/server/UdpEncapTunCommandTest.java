package io.sdt.server;

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

/** {@code sdt udp-encap-tun} command lines that must not start anything: exit 2 and a message naming the flag. */
class UdpEncapTunCommandTest {

    @TempDir
    static Path dir;
    static String secret;
    static String shortSecret;

    @BeforeAll
    static void secrets() throws Exception {
        secret = Files.writeString(dir.resolve("secret"), "0123456789abcdef0123456789abcdef\n").toString();
        shortSecret = Files.writeString(dir.resolve("short"), "abc\n").toString();
    }

    record Result(int code, String err, String out) {
    }

    static Result run(String line) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] args = line.isEmpty() ? new String[0] : line.split(" ");
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, err.toString(), out.toString());
    }

    static Stream<List<String>> badCommandLines() {
        String ok = "udp-encap-tun --interface tun9 --listen-port 12345 --bind-to-interface lo --secret-file " + secret;
        List<List<String>> cases = new ArrayList<>();
        cases.add(List.of("udp-encap-tun --listen-port 1 --bind-to-interface lo --secret-file " + secret, "Missing required option: '--interface=TUN'"));
        cases.add(List.of("udp-encap-tun --interface tun9 --bind-to-interface lo --secret-file " + secret, "Missing required option: '--listen-port=PORT'"));
        cases.add(List.of("udp-encap-tun --interface tun9 --listen-port 1 --secret-file " + secret, "Missing required option: '--bind-to-interface=IF'"));
        cases.add(List.of("udp-encap-tun --interface tun9 --listen-port 1 --bind-to-interface lo", "Missing required option: '--secret-file=F'"));
        cases.add(List.of(ok.replace("12345", "0"), "--listen-port 0: port 0 is out of range"));
        cases.add(List.of(ok.replace("12345", "65536"), "--listen-port 65536: port 65536 is out of range"));
        cases.add(List.of(ok.replace("12345", "abc"), "Invalid value for option '--listen-port': 'abc' is not an int"));
        cases.add(List.of(ok + " --endpoint-port 70000", "--endpoint-port 70000: port 70000 is out of range"));
        cases.add(List.of(ok.replace("tun9", "tun/9"), "--interface tun/9: interface name 'tun/9' contains '/'"));
        cases.add(List.of(ok.replace("tun9", "tun-with-a-long-name"), "--interface tun-with-a-long-name: interface name 'tun-with-a-long-name' is longer than 15 bytes"));
        cases.add(List.of(ok.replace("--bind-to-interface lo", "--bind-to-interface nosuch9"), "--bind-to-interface nosuch9: no such interface"));
        cases.add(List.of(ok.replace("--interface tun9", "--interface lo"), "--bind-to-interface must differ from --interface"));
        cases.add(List.of(ok.replace(secret, "/nonexistent/secret"), "--secret-file /nonexistent/secret: no such file"));
        cases.add(List.of(ok.replace(secret, shortSecret), "--secret-file " + shortSecret + ": secret is shorter than 16 characters"));
        cases.add(List.of(ok + " --pool 10.0.0.0/33", "--pool 10.0.0.0/33: pool prefix /33 is out of range"));
        cases.add(List.of(ok + " --pool 10.0.0/24", "--pool 10.0.0/24: '10.0.0' is not an IPv4 address"));
        cases.add(List.of(ok + " --endpoint-port 12345 --pool 10.9.0.0/24", "--pool applies to the server only"));
        cases.add(List.of(ok + " --frobnicate", "Unknown option: '--frobnicate'"));
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("badCommandLines")
    void badInputExitsWith2AndNamesTheProblem(List<String> c) {
        Result r = run(c.get(0));
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("sdt udp-encap-tun: error: "), r.err());
        assertTrue(first.contains(c.get(1)), "expected '" + c.get(1) + "' in: " + r.err());
    }

    @Test
    void helpListsEveryOption() {
        Result r = run("udp-encap-tun --help");
        assertEquals(0, r.code());
        for (String flag : List.of("--interface", "--listen-port", "--bind-to-interface", "--endpoint-port", "--secret-file", "--pool")) {
            assertTrue(r.out().contains(flag), flag + " missing from:\n" + r.out());
        }
    }
}
