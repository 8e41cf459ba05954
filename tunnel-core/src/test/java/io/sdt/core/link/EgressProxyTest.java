package io.sdt.core.link;

import io.sdt.codec.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --proxy} URLs and curl's proxy variables, including every kind of bad URL. */
class EgressProxyTest {

    private static final HostPort SERVER = new HostPort("tunnel.example.com", 7000);

    @Test
    void httpAndSocksUrlsWithAndWithoutCredentials() {
        EgressProxy h = EgressProxy.parse("http://proxy.corp:3128");
        assertEquals(EgressProxy.Kind.HTTP, h.kind());
        assertEquals(new HostPort("proxy.corp", 3128), h.address());
        assertNull(h.user());
        EgressProxy s = EgressProxy.parse("socks5://al%40ice:p%3Ass@[::1]:1080");
        assertEquals(EgressProxy.Kind.SOCKS5, s.kind());
        assertEquals(new HostPort("::1", 1080), s.address());
        assertEquals("al@ice", s.user(), "percent-decoded");
        assertEquals("p:ss", s.password());
        assertEquals("socks5://al@ice:***@[::1]:1080", s.toString(), "never the password");
        assertEquals(EgressProxy.Kind.SOCKS5, EgressProxy.parse("socks5h://127.0.0.1:1080").kind());
    }

    @ParameterizedTest
    @ValueSource(strings = {"proxy.corp:3128", "https://proxy.corp:3128", "socks4://p:1080", "http://proxy.corp",
        "http://proxy.corp:0", "http://proxy.corp:70000", "http://user@proxy.corp:3128", "http://proxy.corp:3128/path",
        "http://proxy.corp:3128/?q=1", "http://:3128", "not a url at all"})
    void badUrlsAreRefusedWithTheReason(String url) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EgressProxy.parse(url));
        assertTrue(e.getMessage().contains("proxy"), e.getMessage());
    }

    @Test
    void aBadUrlsPasswordIsNotRepeated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EgressProxy.parse("ftp://bob:secret@proxy.corp:21"));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }

    @Test
    void theEnvironmentIsReadLikeCurlReadsItForHttps() {
        assertNull(EgressProxy.fromEnvironment(Map.of(), SERVER));
        assertEquals(new HostPort("a", 1), EgressProxy.fromEnvironment(Map.of("HTTPS_PROXY", "http://a:1",
                "ALL_PROXY", "http://b:2"), SERVER).address(), "HTTPS_PROXY before ALL_PROXY");
        assertEquals(new HostPort("b", 2), EgressProxy.fromEnvironment(Map.of("all_proxy", "socks5://b:2"), SERVER)
                .address());
        assertEquals(EgressProxy.Kind.HTTP, EgressProxy.fromEnvironment(Map.of("https_proxy", "c:3"), SERVER).kind(),
                "no scheme: http, as curl assumes");
        assertNull(EgressProxy.fromEnvironment(Map.of("HTTP_PROXY", "http://a:1"), SERVER),
                "HTTP_PROXY is for http:// URLs; the link is TLS");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EgressProxy.fromEnvironment(Map.of("HTTPS_PROXY", "ftp://a:1"), SERVER));
        assertTrue(e.getMessage().startsWith("HTTPS_PROXY: "), e.getMessage());
    }

    @Test
    void noProxyNamesHostsDomainsAddressesAndNetworks() {
        assertTrue(EgressProxy.excluded("*", "anything"));
        assertTrue(EgressProxy.excluded("localhost, example.com", "tunnel.example.com"), "a domain and its subdomains");
        assertTrue(EgressProxy.excluded(".example.com", "example.com"), "a leading dot is the same");
        assertFalse(EgressProxy.excluded("example.com", "notexample.com"), "a suffix must be at a dot");
        assertTrue(EgressProxy.excluded("10.0.0.0/8", "10.1.2.3"));
        assertFalse(EgressProxy.excluded("10.0.0.0/8", "11.1.2.3"));
        assertTrue(EgressProxy.excluded("fd00::/8", "fd12::1"));
        assertTrue(EgressProxy.excluded("192.0.2.7", "192.0.2.7"));
        assertFalse(EgressProxy.excluded("10.0.0.0/99, garbage/x", "10.1.2.3"), "a bad network matches nothing");
        assertNull(EgressProxy.fromEnvironment(Map.of("HTTPS_PROXY", "http://a:1", "NO_PROXY", ".example.com"), SERVER));
        assertNull(EgressProxy.fromEnvironment(Map.of("HTTPS_PROXY", "http://a:1", "no_proxy", "*"), SERVER));
    }
}
