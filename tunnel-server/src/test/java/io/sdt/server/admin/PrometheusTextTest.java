package io.sdt.server.admin;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The test's exposition parser accepts the format and rejects malformed lines (so the IT can trust it). */
class PrometheusTextTest {

    @Test
    void parsesHelpTypeAndSamples() {
        PrometheusText p = PrometheusText.parse("""
                # HELP a_total A counter
                # TYPE a_total counter
                a_total{tunnel="0:127.0.0.1:80",mode="tcp"} 12.0
                a_total{tunnel="x\\"y\\\\z",mode="udp"} 1.5E3
                # TYPE h histogram
                h_bucket{le="+Inf"} 3
                h_count 3
                h_sum 0.25 1700000000
                """);
        assertEquals(12.0, p.value("a_total", "mode", "tcp"));
        assertEquals(1500.0, p.value("a_total", "tunnel", "x\"y\\z"));
        assertEquals(Map.of("le", "+Inf"), p.find("h_bucket", Map.of()).getFirst().labels());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "# TYPE a counter\na 1",                       // no final newline
            "a 1\n",                                      // no TYPE
            "# TYPE a counter\na{b=\"c\"} x\n",           // bad value
            "# TYPE a counter\na{b=\"c} 1\n",             // unterminated label value
            "# TYPE a counter\na{b=c} 1\n",               // unquoted
            "# TYPE a counter\na{b=\"c\" d=\"e\"} 1\n",   // missing comma
            "# TYPE a counter\na{b=\"c\",b=\"d\"} 1\n",   // repeated label
            "# TYPE a counter\na  1\n",                   // two spaces
            "# TYPE a counter\na 1\na 2\n",               // duplicate series
            "# TYPE a counter\n\na 1\n",                  // blank line
            "# TYPE a frobnicator\na 1\n",                // unknown type
            "# a comment\n",                              // other comment
            "# TYPE a counter\n1a 1\n",                   // bad name
            "# TYPE a counter\na{b=\"\\x\"} 1\n",         // bad escape
    })
    void rejectsMalformedExpositions(String text) {
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse(text));
    }
}
