package io.sdt.server.admin;

import io.sdt.core.policy.RecentAudit;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.sdt.server.admin.TunnelsJson.string;

/**
 * {@code /events}: the node's most recent audit events, newest first, from its bounded ring
 * ({@link RecentAudit}), filtered by the query: {@code after=SEQ} (only newer ones, for polling),
 * {@code limit=N} (1 to {@value #MAX_LIMIT}, default {@value #DEFAULT_LIMIT}), {@code decision=allowed|denied}
 * and {@code q=TEXT} (case-insensitive, in the link, source, target, kind or rule). A bad value is the
 * caller's error: {@link IllegalArgumentException} with what was wrong, answered with 400.
 */
final class EventsJson {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = RecentAudit.DEFAULT_SIZE;
    private static final int MAX_QUERY = 200;

    private EventsJson() {
    }

    static String write(RecentAudit audit, Map<String, List<String>> query) {
        for (String k : query.keySet()) {
            if (!List.of("after", "limit", "decision", "q").contains(k)) {
                throw new IllegalArgumentException("unknown parameter '" + k + "' (after, limit, decision, q)");
            }
        }
        long after = number(query, "after", 0, Long.MAX_VALUE, 0);
        int limit = (int) number(query, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
        String decision = one(query, "decision");
        if (decision != null && !decision.equals("allowed") && !decision.equals("denied")) {
            throw new IllegalArgumentException("decision must be allowed or denied, not '" + decision + "'");
        }
        String q = one(query, "q");
        if (q != null && q.length() > MAX_QUERY) {
            throw new IllegalArgumentException("q is longer than " + MAX_QUERY + " characters");
        }
        String needle = q == null || q.isEmpty() ? null : q.toLowerCase(Locale.ROOT);
        List<RecentAudit.Event> events = audit.latest(after, MAX_LIMIT);
        StringBuilder b = new StringBuilder(64 + 256 * Math.min(limit, events.size()));
        b.append("{\"total\":").append(audit.total()).append(",\"events\":[");
        int n = 0;
        for (RecentAudit.Event e : events) {
            if (n == limit) {
                break;
            }
            if (decision != null && e.allowed() != decision.equals("allowed")) {
                continue;
            }
            if (needle != null && !matches(e, needle)) {
                continue;
            }
            b.append(n++ == 0 ? "\n  {" : ",\n  {").append("\"seq\":").append(e.seq()).append(",\"time\":");
            string(b, Instant.ofEpochMilli(e.timeMillis()).toString()).append(",\"link\":");
            string(b, e.link()).append(",\"source\":");
            string(b, e.source()).append(",\"tunnel\":").append(e.tunnel())
                    .append(",\"channel\":").append(e.channel()).append(",\"kind\":");
            string(b, e.kind()).append(",\"target\":");
            string(b, e.target()).append(",\"decision\":");
            string(b, e.allowed() ? "allowed" : "denied").append(",\"rule\":");
            string(b, e.rule()).append('}');
        }
        return b.append(n == 0 ? "]}\n" : "\n]}\n").toString();
    }

    private static boolean matches(RecentAudit.Event e, String needle) {
        for (String s : new String[] {e.link(), e.source(), e.target(), e.kind(), e.rule()}) {
            if (s != null && s.toLowerCase(Locale.ROOT).contains(needle)) {
                return true;
            }
        }
        return false;
    }

    private static String one(Map<String, List<String>> query, String key) {
        List<String> v = query.get(key);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw new IllegalArgumentException(key + " given more than once");
        }
        return v.getFirst();
    }

    private static long number(Map<String, List<String>> query, String key, long min, long max, long dflt) {
        String v = one(query, key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number from " + min + " to " + max
                    + ", not '" + v + "'");
        }
    }
}
