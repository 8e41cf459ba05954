package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.sdt.core.tunnel.router.proxy.Bytes.ascii;
import static io.sdt.core.tunnel.router.proxy.Bytes.concat;
import static io.sdt.core.tunnel.router.proxy.Bytes.domain;
import static io.sdt.core.tunnel.router.proxy.Bytes.of;
import static io.sdt.core.tunnel.router.proxy.Bytes.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SOCKS5 and protocol detection on an EmbeddedChannel ({@link Customer}); HTTP is in {@link HttpConnectFrontendTest}. */
@ExtendWith(LeakGuard.class)
class RouterFrontendTest {

    private static final byte[] GREETING = of(5, 1, 0);
    private static final byte[] CHOSE_NONE = of(5, 0);
    /** Success reply with BND = Customer.LOCAL, 192.0.2.7:1080. */
    private static final byte[] SUCCESS = of(5, 0, 0, 1, 192, 0, 2, 7, 0x04, 0x38);
    private static final byte[] CONNECT_DOMAIN = concat(of(5, 1, 0), domain("example.com", 443));

    private final List<Customer> customers = new ArrayList<>();

    private Customer customer(ProxyAuth auth) {
        Customer c = new Customer(auth);
        customers.add(c);
        return c;
    }

    private Customer customer() {
        return customer(null);
    }

    @AfterEach
    void released() {
        customers.forEach(Customer::close);
    }

    private static byte[] refusal(int rep) {
        return of(5, rep, 0, 1, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void connectsToAnIpv4Target() {
        Customer c = customer();
        c.send(GREETING);
        assertArrayEquals(CHOSE_NONE, c.out());
        c.send(5, 1, 0, 1, 10, 0, 0, 1, 0, 80);
        assertEquals(List.of(new HostPort("10.0.0.1", 80)), c.targets);
        assertArrayEquals(new byte[0], c.out(), "nothing is said before the backend answers");
        assertArrayEquals(new byte[0], c.succeed());
        assertArrayEquals(SUCCESS, c.out());
        assertFalse(c.hasFrontend(), "the frontend leaves the pipeline");
        assertTrue(c.ch.isOpen());
        assertFalse(c.ch.config().isAutoRead());
        assertEquals(0, c.stats.total());
    }

    @Test
    void connectsToAnIpv6Target() {
        Customer c = customer();
        c.send(concat(GREETING, of(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0xbb)));
        assertEquals(List.of(new HostPort("2001:db8::1", 443)), c.targets);
        c.succeed();
        assertArrayEquals(concat(CHOSE_NONE, SUCCESS), c.out());
    }

    @Test
    void connectsToADomainAndHandsOverPipelinedBytes() {
        Customer c = customer();
        c.send(concat(GREETING, CONNECT_DOMAIN, ascii("hello")));
        assertEquals(List.of(new HostPort("example.com", 443)), c.targets);
        c.send("world"); // arrives while the backend connects: part of the leftover too
        assertArrayEquals(ascii("helloworld"), c.succeed());
        assertArrayEquals(concat(CHOSE_NONE, SUCCESS), c.out());
    }

    @Test
    void anyRequestSplitAtAnyByteGivesTheSameExchange() {
        byte[] whole = concat(of(5, 2, 2, 0), of(1, 4), ascii("user"), of(6), ascii("secret"), CONNECT_DOMAIN);
        for (int cut = 1; cut < whole.length; cut++) {
            Customer c = customer(ProxyAuth.of("user", "secret"));
            c.send(range(whole, 0, cut));
            c.send(range(whole, cut, whole.length));
            assertEquals(List.of(new HostPort("example.com", 443)), c.targets, "cut at " + cut);
            c.succeed();
            assertArrayEquals(concat(of(5, 2), of(1, 0), SUCCESS), c.out(), "cut at " + cut);
        }
        Customer bytewise = customer();
        for (byte b : concat(GREETING, CONNECT_DOMAIN)) {
            bytewise.send(b);
        }
        assertEquals(List.of(new HostPort("example.com", 443)), bytewise.targets);
    }

    @Test
    void aTruncatedHandshakeTimesOutAtEveryCut() {
        byte[] whole = concat(GREETING, CONNECT_DOMAIN);
        for (int cut = 1; cut < whole.length; cut++) {
            Customer c = customer();
            c.send(range(whole, 0, cut));
            c.advance(Customer.TIMEOUT.minusMillis(100));
            assertTrue(c.ch.isOpen(), "cut at " + cut);
            c.advance(Duration.ofMillis(200));
            assertFalse(c.ch.isOpen(), "cut at " + cut);
            assertTrue(c.targets.isEmpty());
            assertEquals(1, c.stats.handshakeTimeout.get());
            c.out();
        }
    }

    @Test
    void aCustomerThatClosesMidHandshakeLeavesNothingBehind() {
        Customer c = customer();
        c.send(concat(GREETING, range(CONNECT_DOMAIN, 0, 6)));
        c.ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertFalse(c.ch.isOpen());
        assertTrue(c.targets.isEmpty());
    }

    @Test
    void theTimeoutStopsOnceTheRequestIsComplete() {
        Customer c = customer();
        c.send(concat(GREETING, CONNECT_DOMAIN));
        c.advance(Customer.TIMEOUT.multipliedBy(2));
        assertTrue(c.ch.isOpen(), "the backend bounds its own connect time");
        c.succeed();
        c.advance(Customer.TIMEOUT.multipliedBy(2));
        assertTrue(c.ch.isOpen());
        assertEquals(0, c.stats.handshakeTimeout.get());
    }

    @Test
    void userAndPasswordAreChecked() {
        ProxyAuth auth = ProxyAuth.of("user", "secret");
        Customer good = customer(auth);
        good.send(concat(of(5, 1, 2), of(1, 4), ascii("user"), of(6), ascii("secret"), CONNECT_DOMAIN));
        assertEquals(1, good.targets.size());
        assertArrayEquals(concat(of(5, 2), of(1, 0)), good.out());

        for (String[] wrong : new String[][] {{"user", "secreT"}, {"usex", "secret"}, {"user", "secret2"}, {"", ""}}) {
            Customer c = customer(auth);
            byte[] u = ascii(wrong[0]);
            byte[] p = ascii(wrong[1]);
            c.send(concat(of(5, 1, 2), of(1, u.length), u, of(p.length), p, CONNECT_DOMAIN));
            assertArrayEquals(concat(of(5, 2), of(1, 1)), c.out(), String.join(":", wrong));
            assertFalse(c.ch.isOpen());
            assertTrue(c.targets.isEmpty());
            assertEquals(1, c.stats.authFailed.get());
        }
    }

    @Test
    void noAcceptableMethodGetsFF() {
        Customer needsAuth = customer(ProxyAuth.of("user", "secret"));
        needsAuth.send(5, 1, 0);
        Customer noAuth = customer();
        noAuth.send(5, 1, 2);
        Customer offersNothing = customer();
        offersNothing.send(5, 0);
        for (Customer c : List.of(needsAuth, noAuth, offersNothing)) {
            assertArrayEquals(of(5, 0xFF), c.out());
            assertFalse(c.ch.isOpen());
            assertEquals(1, c.stats.authFailed.get());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x02, 0x09, 0x00, 0xFF})
    void bindAndUnknownCommandsGetReply07(int command) {
        Customer c = customer();
        c.send(concat(GREETING, of(5, command, 0, 1, 10, 0, 0, 1, 0, 80)));
        assertArrayEquals(concat(CHOSE_NONE, refusal(7)), c.out());
        assertFalse(c.ch.isOpen());
        assertEquals(1, c.stats.unsupportedCommand.get());
    }

    @Test
    void unknownAddressTypeGetsReply08() {
        Customer c = customer();
        c.send(concat(GREETING, of(5, 1, 0, 5, 1, 2, 3, 4, 0, 80)));
        assertArrayEquals(concat(CHOSE_NONE, refusal(8)), c.out());
        assertFalse(c.ch.isOpen());
        assertEquals(1, c.stats.malformed.get());
    }

    @Test
    void badNamesAndPortZeroGetReply01() {
        List<byte[]> requests = List.of(
                of(5, 1, 0, 3, 0, 0, 80),                                   // empty name
                concat(of(5, 1, 0), domain("exa mple.com", 80)),            // space
                concat(of(5, 1, 0), domain("a\u0001b", 80)),                // control character
                concat(of(5, 1, 0), domain("caf\u00e9.com", 80)),           // not ASCII
                concat(of(5, 1, 0), domain("example.com", 0)),              // port 0
                of(5, 1, 0, 1, 10, 0, 0, 1, 0, 0));                         // port 0
        for (byte[] request : requests) {
            Customer c = customer();
            c.send(concat(GREETING, request));
            assertArrayEquals(concat(CHOSE_NONE, refusal(1)), c.out());
            assertFalse(c.ch.isOpen());
            assertTrue(c.targets.isEmpty());
            assertEquals(1, c.stats.malformed.get());
        }
    }

    @Test
    void wrongVersionsCloseWithoutReply() {
        List<byte[]> inputs = List.of(
                of(6, 1, 0),                                         // unknown first byte
                of(0),
                ascii("get / HTTP/1.1\r\n\r\n"),                     // lower case is not HTTP here
                concat(GREETING, of(4, 1, 0, 1, 10, 0, 0, 1, 0, 80)), // request version
                concat(of(5, 1, 2), of(2, 4)));                      // RFC 1929 version
        for (int i = 0; i < inputs.size(); i++) {
            Customer c = customer(i == inputs.size() - 1 ? ProxyAuth.of("user", "secret") : null);
            c.send(inputs.get(i));
            byte[] out = c.out();
            assertTrue(out.length == 0 || out.length == 2, "only a method selection may precede the close");
            assertFalse(c.ch.isOpen(), "input " + i);
            assertTrue(c.targets.isEmpty());
            assertEquals(1, c.stats.malformed.get(), "input " + i);
        }
    }

    @Test
    void socks4IsRefusedWith5B() {
        Customer c = customer();
        c.send(4, 1, 0, 80, 10, 0, 0, 1, 0);
        assertArrayEquals(of(0, 0x5B, 0, 0, 0, 0, 0, 0), c.out());
        assertFalse(c.ch.isOpen());
        assertEquals(1, c.stats.unsupportedCommand.get());
    }

    @ParameterizedTest
    @CsvSource({"NONE,1", "GENERAL,1", "DENIED,2", "REFUSED,5", "UNREACHABLE,4", "TIMEOUT,6", "LIMIT,1",
            "UNKNOWN_TUNNEL,1", "AUTH_FAILED,1", "PROTOCOL,1", "SHUTDOWN,1", "UNSUPPORTED,7"})
    void backendFailuresMapToSocksReplies(ErrorCode code, int rep) {
        Customer c = customer();
        c.send(concat(GREETING, CONNECT_DOMAIN, ascii("pipelined")));
        c.result.failed(code, "because");
        assertArrayEquals(concat(CHOSE_NONE, refusal(rep)), c.out());
        assertFalse(c.ch.isOpen());
    }

    @Test
    void aBackendThatThrowsIsAGeneralFailure() {
        Customer c = customer();
        c.onConnect = r -> {
            throw new IllegalStateException("backend bug");
        };
        c.send(concat(GREETING, CONNECT_DOMAIN));
        assertArrayEquals(concat(CHOSE_NONE, refusal(1)), c.out());
        assertFalse(c.ch.isOpen());
    }

    @Test
    void theBackendMayAnswerInsideConnect() {
        Customer c = customer();
        List<byte[]> leftover = new ArrayList<>();
        c.onConnect = r -> {
            var left = r.succeeded();
            leftover.add(ByteBufUtil.getBytes(left));
            left.release();
        };
        c.send(concat(GREETING, CONNECT_DOMAIN, ascii("x")));
        assertArrayEquals(ascii("x"), leftover.getFirst());
        assertArrayEquals(concat(CHOSE_NONE, SUCCESS), c.out());
        assertFalse(c.hasFrontend());

        Customer refused = customer();
        refused.onConnect = r -> r.failed(ErrorCode.DENIED, "policy");
        refused.send(concat(GREETING, CONNECT_DOMAIN, ascii("x")));
        assertArrayEquals(concat(CHOSE_NONE, refusal(2)), refused.out());
        assertFalse(refused.ch.isOpen());
    }

    @Test
    void answersAfterTheCustomerLeftAreHarmlessAndSecondAnswersThrow() {
        Customer gone = customer();
        gone.send(concat(GREETING, CONNECT_DOMAIN, ascii("x")));
        gone.out();
        gone.ch.close();
        assertArrayEquals(new byte[0], gone.succeed());
        assertArrayEquals(new byte[0], gone.out());
        assertThrows(IllegalStateException.class, () -> gone.result.failed(ErrorCode.GENERAL, "again"));

        Customer goneToo = customer();
        goneToo.send(concat(GREETING, CONNECT_DOMAIN));
        goneToo.out();
        goneToo.ch.close();
        goneToo.result.failed(ErrorCode.TIMEOUT, "late");
        assertArrayEquals(new byte[0], goneToo.out());
        assertThrows(IllegalStateException.class, goneToo.result::succeeded);
    }

    @Test
    void udpAssociateThatCannotBindIsAGeneralFailure() {
        // an EmbeddedChannel has no IP addresses, so the UDP socket cannot be bound
        Customer c = customer();
        c.send(concat(GREETING, of(5, 3, 0, 1, 0, 0, 0, 0, 0, 0)));
        assertArrayEquals(concat(CHOSE_NONE, refusal(1)), c.out());
        assertFalse(c.ch.isOpen());
    }
}
