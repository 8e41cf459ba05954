package io.sdt.core.policy;

import io.sdt.codec.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyRuleTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "*                 | 10.1.2.3      | 22    | true",
            "*:80              | anything.com  | 80    | true",
            "*:80              | anything.com  | 81    | false",
            "10.0.0.0/8:22     | 10.200.1.1    | 22    | true",
            "10.0.0.0/8:22     | 11.0.0.1      | 22    | false",
            "10.0.0.0/8:22     | 10.0.0.1      | 23    | false",
            "10.0.0.0/8        | ten.internal  | 22    | false",
            "127.0.0.1:1000-2000 | 127.0.0.1   | 1500  | true",
            "127.0.0.1:1000-2000 | 127.0.0.1   | 2001  | false",
            "db.internal:5432  | DB.internal   | 5432  | true",
            "db.internal:5432  | 10.0.0.1      | 5432  | false",
            "*.internal        | a.b.internal  | 1     | true",
            "*.internal        | internal      | 1     | false",
            "*.internal        | xinternal     | 1     | false",
            "[fd00::]/8:443    | fd12::1       | 443   | true",
            "[fd00::]/8:443    | fe80::1       | 443   | false",
            "[::1]             | ::1           | 9     | true",
            "[::1]             | 127.0.0.1     | 9     | false",
            "0.0.0.0/0         | ::1           | 9     | false",
    })
    void matches(String rule, String host, int port, boolean expected) {
        assertEquals(expected, PolicyRule.parse("--allow-target", rule).matches(new HostPort(host, port)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''              | empty rule",
            "10.0.0.0/33     | longer than 32 bits",
            "10.0.0.0/x      | bad CIDR prefix",
            "host:99999      | out of 0..65535",
            "host:20-10      | reversed",
            "host:abc        | bad ports",
            "fd00::1:80      | IPv6 addresses go in brackets",
            "[fd00::         | unclosed '['",
            "bad host!:80    | is not a host name",
            "name/8          | is not an IP address",
    })
    void rejectsBadRules(String rule, String expected) {
        RuleException e = assertThrows(RuleException.class, () -> PolicyRule.parse("--allow-bind", rule));
        assertTrue(e.getMessage().startsWith("--allow-bind"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void emptyPolicyDeniesEverything() {
        Policy p = Policy.denyAll();
        assertFalse(p.allows(new HostPort("127.0.0.1", 80)));
        Policy two = Policy.parse("--allow-target", List.of("10.0.0.0/8", "db:5432"));
        assertTrue(two.allows(new HostPort("db", 5432)));
        assertEquals("10.0.0.0/8", two.match(new HostPort("10.0.0.9", 1)).orElseThrow().toString());
    }

    @Test
    void namesThatResolversReadAsIpv4MatchNoRule() {
        Policy any = Policy.parse("--allow-target", java.util.List.of("*", "*.example.com", "127.0.0.1"));
        for (String host : new String[] {"2130706433", "127.1", "0x7f.1", "127.000.0.1", "0177.0.0.1", "0x7f000001", "010.0.0.1"}) {
            assertTrue(Policy.isAmbiguousIpv4(host), host);
            assertFalse(any.allows(new HostPort(host, 80)), host + " must match no rule, not even *");
        }
        for (String host : new String[] {"127.0.0.1", "::1", "db.internal", "1e100.net", "a.example.com", "x1.2"}) {
            assertFalse(Policy.isAmbiguousIpv4(host), host);
        }
        assertTrue(any.allows(new HostPort("a.example.com", 80)));
    }
}
