package io.sdt.core;

import io.sdt.core.policy.AuditLog;
import io.sdt.core.testing.Await;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.testing.Nodes;
import io.sdt.core.testing.Targets;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.message.MapMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit trail: one event per channel open on the exit node, allowed with its rule or denied. */
@ExtendWith(LeakGuard.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuditLogIT {

    private final List<Map<String, String>> events = new ArrayList<>();
    private AbstractAppender capture;

    @BeforeEach
    void captureAudit() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        capture = new AbstractAppender("audit-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                if (event.getMessage() instanceof MapMessage<?, ?> m) {
                    Map<String, String> copy = new HashMap<>();
                    m.getData().forEach((k, v) -> copy.put(k, String.valueOf(v)));
                    synchronized (events) {
                        events.add(copy);
                    }
                }
            }
        };
        capture.start();
        LoggerConfig audit = new LoggerConfig(AuditLog.LOGGER, Level.INFO, false);
        audit.addAppender(capture, Level.INFO, null);
        cfg.addLogger(AuditLog.LOGGER, audit);
        ctx.updateLoggers();
    }

    @AfterEach
    void stopCapture() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().removeLogger(AuditLog.LOGGER);
        ctx.updateLoggers();
        capture.stop();
    }

    private List<Map<String, String>> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    @Test
    void everyChannelOpenIsAuditedWithItsDecisionAndRule() throws Exception {
        try (Nodes nodes = new Nodes(); Targets allowed = Targets.echo(); Targets forbidden = Targets.echo()) {
            String rule = "127.0.0.1:" + allowed.port();
            SdtServer server = nodes.server(b -> b.allowTarget(rule));
            SdtClient client = nodes.client(server, b -> b
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + allowed.port())
                    .forward(Direction.LOCAL, "0:127.0.0.1:" + forbidden.port()));
            int[] sources = new int[2];
            for (int i = 0; i < 2; i++) {
                try (Socket s = new Socket()) {
                    s.connect(client.tunnels().get(i).boundAddress(), 5000);
                    sources[i] = s.getLocalPort();
                    s.setSoTimeout(5000);
                    s.getOutputStream().write(7);
                    s.getInputStream().read();
                } catch (java.io.IOException e) {
                    // the denied one is closed, possibly with a reset (its byte was never read)
                }
            }
            Await.until("two audit events", Duration.ofSeconds(5), () -> events().size() >= 2);
            List<Map<String, String>> all = events();
            assertEquals(2, all.size(), "one event per channel open: " + all);
            Map<String, String> ok = all.stream().filter(e -> e.get("decision").equals("allowed")).findFirst().orElseThrow();
            Map<String, String> no = all.stream().filter(e -> e.get("decision").equals("denied")).findFirst().orElseThrow();
            assertEquals("channel_open", ok.get("event"));
            assertEquals("tcp", ok.get("kind"));
            assertEquals("127.0.0.1:" + allowed.port(), ok.get("target"));
            assertEquals(rule, ok.get("rule"), "the rule that allowed it");
            assertEquals("1", ok.get("tunnel"));
            assertTrue(ok.get("link").contains("127.0.0.1"), "the link names the asking node: " + ok.get("link"));
            assertEquals("127.0.0.1:" + forbidden.port(), no.get("target"));
            assertEquals("none", no.get("rule"));
            assertEquals("127.0.0.1:" + sources[0], ok.get("source"), "the customer's address, carried in OPEN");
            assertEquals("127.0.0.1:" + sources[1], no.get("source"));
            assertEquals("2", no.get("tunnel"));
            assertEquals(0, forbidden.accepted());
            assertTrue(all.stream().noneMatch(e -> e.values().stream().anyMatch(v -> v.contains(nodes.token))),
                    "no secret in the audit trail");
        }
    }
}
