package io.sdt.core.policy;

import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.message.StringMapMessage;

import java.util.Optional;

/**
 * The audit trail of policy decisions: one event per channel open, on the node that decides it
 * (the exit node), on its own logger {@value #LOGGER} so that operators can route it apart from
 * the diagnostic log. Events are Log4j2 map messages, so the layout picks the format: the
 * {@code sdt} launcher writes {@code key="value"} lines, or JSON lines with
 * {@code SDT_AUDIT_FORMAT=json} ({@code %m{JSON}}).
 *
 * <p>Fields: {@code event} ({@code channel_open}), {@code link} (its name and peer address: the
 * node that asked), {@code source} (the customer's address as the asking node saw it, carried in
 * OPEN; {@code -} for push channels, which carry many sources), {@code tunnel},
 * {@code channel}, {@code kind} ({@code tcp}, {@code udp}, {@code push}), {@code target},
 * {@code decision} ({@code allowed} or {@code denied}) and {@code rule} (the rule that allowed it,
 * {@code configured} for a target this node configured itself, or {@code none}). Thread-safe.
 */
public final class AuditLog {

    public static final String LOGGER = "sdt.audit";
    private static final Logger audit = LogManager.getLogger(LOGGER);

    private AuditLog() {
    }

    /** A channel open decided by {@code rule} (empty: denied); also kept in the node's {@code recent} events. */
    public static void channelOpen(RecentAudit recent, Object link, Frame.Open open, HostPort target,
                                   Optional<PolicyRule> rule) {
        channelOpen(recent, link, open, target, rule.isPresent(), rule.map(PolicyRule::toString).orElse("none"));
    }

    /** A channel open to a target this node configured itself ({@code -R} with a target). */
    public static void configuredOpen(RecentAudit recent, Object link, Frame.Open open, HostPort target) {
        channelOpen(recent, link, open, target, true, "configured");
    }

    private static void channelOpen(RecentAudit recent, Object link, Frame.Open open, HostPort target,
                                    boolean allowed, String rule) {
        String linkName = String.valueOf(link);
        String source = open.origin() == null ? "-" : open.origin().toString();
        String kind = open.udp() ? "udp" : open.push() ? "push" : "tcp";
        String to = String.valueOf(target);
        recent.add(System.currentTimeMillis(), linkName, source, open.tunnelId(), open.channel(), kind, to, allowed,
                rule);
        if (!audit.isInfoEnabled()) {
            return;
        }
        StringMapMessage m = new StringMapMessage(10)
                .with("event", "channel_open")
                .with("link", linkName)
                .with("source", source)
                .with("tunnel", Integer.toString(open.tunnelId()))
                .with("channel", Integer.toString(open.channel()))
                .with("kind", kind)
                .with("target", to)
                .with("decision", allowed ? "allowed" : "denied")
                .with("rule", rule);
        audit.info(m);
    }
}
