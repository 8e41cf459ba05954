package io.sdt.core.tunnel.router.proxy;

import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static io.sdt.core.tunnel.router.proxy.Bytes.ascii;
import static io.sdt.core.tunnel.router.proxy.Bytes.concat;
import static io.sdt.core.tunnel.router.proxy.Bytes.of;
import static io.sdt.core.tunnel.router.proxy.Bytes.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTP CONNECT on an EmbeddedChannel ({@link Customer}). */
@ExtendWith(LeakGuard.class)
class HttpConnectFrontendTest {

    private static final String ESTABLISHED = "HTTP/1.1 200 Connection established\r\n\r\n";
    private static final String CONNECT = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    private static final ProxyAuth AUTH = ProxyAuth.of("user", "p\u00e4ss:word");

    private final List<Customer> customers = new ArrayList<>();

    private Customer customer(ProxyAuth auth) {
        Customer c = new Customer(auth);
        customers.add(c);
        return c;
    }

    @AfterEach
    void released() {
        customers.forEach(Customer::close);
    }

    private static String basic(String user, String pass) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + pass).getBytes(StandardCharsets.UTF_8));
    }

    /** Asserts the customer got {@code status} with Connection: close and was closed. */
    private static String assertRefused(Customer c, int status) {
        String out = c.outText();
        assertTrue(out.startsWith("HTTP/1.1 " + status + " "), out);
        assertTrue(out.contains("\r\nConnection: close\r\n") && out.endsWith("\r\n\r\n"), out);
        assertFalse(c.ch.isOpen());
        return out;
    }

    @Test
    void connectsAndHandsOverTheBytesPipelinedAfterTheHead() {
        Customer c = customer(null);
        byte[] clientHello = of(0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5);
        c.send(concat(ascii(CONNECT), clientHello));
        assertEquals(List.of(new HostPort("example.com", 443)), c.targets);
        assertEquals("", c.outText());
        assertArrayEquals(clientHello, c.succeed());
        assertEquals(ESTABLISHED, c.outText());
        assertFalse(c.hasFrontend());
        assertTrue(c.ch.isOpen());
        assertEquals(0, c.stats.total());
    }

    @Test
    void splitAtAnyByteGivesTheSameResult() {
        byte[] whole = ascii("CONNECT [2001:DB8:0::1]:8443 HTTP/1.0\r\nProxy-Authorization: "
                + basic("user", "p\u00e4ss:word").replace("Basic", "bAsIc") + "\r\n\r\nrest");
        for (int cut = 1; cut < whole.length; cut++) {
            Customer c = customer(AUTH);
            c.send(range(whole, 0, cut));
            c.send(range(whole, cut, whole.length));
            assertEquals(List.of(new HostPort("2001:db8::1", 8443)), c.targets, "cut at " + cut);
            assertArrayEquals(ascii("rest"), c.succeed(), "cut at " + cut);
            assertEquals(ESTABLISHED, c.outText());
        }
    }

    @Test
    void bareLineFeedsAreAccepted() {
        Customer c = customer(null);
        c.send("CONNECT 10.1.2.3:22 HTTP/1.1\nHost: x\n\n");
        assertEquals(List.of(new HostPort("10.1.2.3", 22)), c.targets);
    }

    @Test
    void proxyAuthorizationIsRequiredAndChecked() {
        Customer missing = customer(AUTH);
        missing.send(CONNECT);
        assertTrue(assertRefused(missing, 407).contains("\r\nProxy-Authenticate: Basic realm=\"sdt\"\r\n"));
        assertEquals(0, missing.stats.authFailed.get(), "no credentials is the usual first try, not a failure");

        for (String value : List.of(basic("user", "pass:word"), basic("User", "p\u00e4ss:word"), "Basic !!!",
                "Bearer abc", "Basic", basic("user", "p\u00e4ss:word") + "x")) {
            Customer wrong = customer(AUTH);
            wrong.send("CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: " + value + "\r\n\r\n");
            assertTrue(assertRefused(wrong, 407).contains("Proxy-Authenticate: Basic realm=\"sdt\""), value);
            assertEquals(1, wrong.stats.authFailed.get(), value);
        }
        Customer right = customer(AUTH);
        right.send("CONNECT example.com:443 HTTP/1.1\r\nproxy-authorization:  "
                + basic("user", "p\u00e4ss:word") + "  \r\n\r\n");
        assertEquals(1, right.targets.size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET http://example.com/ HTTP/1.1", "POST http://example.com/ HTTP/1.1",
            "GET / HTTP/1.1", "OPTIONS * HTTP/1.1", "XCONNECT example.com:443 HTTP/1.1"})
    void otherMethodsGet405(String requestLine) {
        Customer c = customer(null);
        c.send(requestLine + "\r\nHost: example.com\r\n\r\n");
        assertTrue(assertRefused(c, 405).contains("\r\nAllow: CONNECT\r\n"));
        assertTrue(c.targets.isEmpty());
        assertEquals(1, c.stats.unsupportedCommand.get());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "CONNECT example.com:443\r\n\r\n",
            "CONNECT  example.com:443 HTTP/1.1\r\n\r\n",
            "CONNECT example.com:443 HTTP/2.0\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1 \r\n\r\n",
            "CONNECT example.com HTTP/1.1\r\n\r\n",
            "CONNECT example.com: HTTP/1.1\r\n\r\n",
            "CONNECT example.com:0 HTTP/1.1\r\n\r\n",
            "CONNECT example.com:65536 HTTP/1.1\r\n\r\n",
            "CONNECT example.com:+443 HTTP/1.1\r\n\r\n",
            "CONNECT :443 HTTP/1.1\r\n\r\n",
            "CONNECT ::1:443 HTTP/1.1\r\n\r\n",
            "CONNECT [::1]443 HTTP/1.1\r\n\r\n",
            "CONNECT [::1 HTTP/1.1\r\n\r\n",
            "CONNECT [fe80::1%eth0]:443 HTTP/1.1\r\n\r\n",
            "CONNECT [example.com]:443 HTTP/1.1\r\n\r\n",
            "CONNECT user@example.com:443 HTTP/1.1\r\n\r\n",
            "CONNECT caf\u00e9.com:443 HTTP/1.1\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nno colon here\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost : example.com\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nX: a\rb\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: a\r\nProxy-Authorization: b\r\n\r\n"})
    void malformedRequestsGet400(String request) {
        Customer c = customer(null);
        c.send(request);
        assertRefused(c, 400);
        assertTrue(c.targets.isEmpty());
        assertEquals(1, c.stats.malformed.get());
    }

    @Test
    void theHeadMayBe8KiBAndNoMore() {
        String start = "CONNECT example.com:443 HTTP/1.1\r\nX-Pad: ";
        String end = "\r\n\r\n";
        String pad = "a".repeat(HttpConnectHandshake.MAX_HEAD - start.length() - end.length());
        Customer fits = customer(null);
        fits.send(start + pad + end);
        assertEquals(1, fits.targets.size());

        Customer over = customer(null);
        over.send(start + pad + "a" + end);
        assertRefused(over, 431);
        assertEquals(1, over.stats.malformed.get());

        Customer endless = customer(null);
        endless.send(start);
        for (int i = 0; i < 20 && endless.ch.isOpen(); i++) {
            endless.send("b".repeat(1000));
        }
        assertRefused(endless, 431);
    }

    @Test
    void aHeadThatNeverEndsTimesOut() {
        Customer c = customer(null);
        c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n");
        c.advance(Customer.TIMEOUT);
        assertFalse(c.ch.isOpen());
        assertEquals("", c.outText());
        assertEquals(1, c.stats.handshakeTimeout.get());
    }

    @ParameterizedTest
    @CsvSource({"NONE,502", "GENERAL,502", "DENIED,403", "REFUSED,502", "UNREACHABLE,502", "TIMEOUT,504",
            "LIMIT,503", "UNKNOWN_TUNNEL,502", "AUTH_FAILED,502", "PROTOCOL,502", "SHUTDOWN,503", "UNSUPPORTED,502"})
    void backendFailuresMapToStatuses(ErrorCode code, int status) {
        Customer c = customer(null);
        c.send(CONNECT + "pipelined");
        c.result.failed(code, "secret internal detail");
        String out = assertRefused(c, status);
        assertFalse(out.contains("secret"), "the backend's message is not shown to customers");
    }
}
