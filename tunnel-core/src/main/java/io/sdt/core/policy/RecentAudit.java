package io.sdt.core.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * The most recent audit events of one node, for the admin endpoint's {@code /events}: a ring of fixed size,
 * so it costs the same after a million channels as after ten. Kept whether or not the audit log is written
 * ({@code SDT_AUDIT_FORMAT=off} silences the file, not this). Thread-safe.
 */
public final class RecentAudit {

    /** How many events a node keeps unless told otherwise. */
    public static final int DEFAULT_SIZE = 500;

    /**
     * One channel-open decision, with the fields of the audit log line ({@link AuditLog}).
     *
     * @param timeMillis when it was decided (epoch milliseconds)
     * @param seq        its number on this node, from 1: a reader asks for those after the last it saw
     */
    public record Event(long seq, long timeMillis, String link, String source, int tunnel, int channel, String kind,
                        String target, boolean allowed, String rule) {
    }

    private final Event[] ring;
    private long next = 1;

    public RecentAudit() {
        this(DEFAULT_SIZE);
    }

    public RecentAudit(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1: " + size);
        }
        ring = new Event[size];
    }

    /** Keeps an event (its {@code seq} given here), dropping the oldest once the ring is full. */
    synchronized void add(long timeMillis, String link, String source, int tunnel, int channel, String kind,
                          String target, boolean allowed, String rule) {
        long seq = next++;
        ring[(int) (seq % ring.length)] = new Event(seq, timeMillis, link, source, tunnel, channel, kind, target,
                allowed, rule);
    }

    /** The newest events after {@code afterSeq}, at most {@code max}, newest first. */
    public synchronized List<Event> latest(long afterSeq, int max) {
        List<Event> out = new ArrayList<>(Math.min(max, ring.length));
        for (long seq = next - 1; seq >= 1 && seq > afterSeq && out.size() < max && seq > next - 1 - ring.length; seq--) {
            out.add(ring[(int) (seq % ring.length)]);
        }
        return out;
    }

    /** How many events this node has decided in all (not only those kept). */
    public synchronized long total() {
        return next - 1;
    }
}
