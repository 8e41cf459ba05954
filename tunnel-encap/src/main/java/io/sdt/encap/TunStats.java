package io.sdt.encap;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one {@code udp-encap-tun} engine. Updated on its event loop, readable from any thread.
 * Every {@link Discard} is counted; its first occurrence is logged at INFO (later ones at TRACE only, so
 * nothing per packet is logged above TRACE) and {@link #summary()} gives a line for periodic logging.
 */
public final class TunStats {

    private static final Logger log = LogManager.getLogger(TunStats.class);

    private final EnumMap<Discard, LongAdder> discards = new EnumMap<>(Discard.class);
    private final LongAdder fromTun = new LongAdder();
    private final LongAdder toUdp = new LongAdder();
    private final LongAdder fromUdp = new LongAdder();
    private final LongAdder toTun = new LongAdder();
    private final LongAdder superSegmentsFromTun = new LongAdder();
    private final LongAdder superSegmentsToTun = new LongAdder();
    private final LongAdder authAccepted = new LongAdder();
    private final LongAdder authRejected = new LongAdder();
    private final LongAdder authSucceeded = new LongAdder();
    private final LongAdder authFailed = new LongAdder();

    public TunStats() {
        for (Discard d : Discard.values()) {
            discards.put(d, new LongAdder());
        }
    }

    /** Counts a dropped packet; {@code detail} (e.g. the address) is logged, never kept. */
    void discard(Discard reason, Object detail) {
        LongAdder c = discards.get(reason);
        c.increment();
        if (c.sum() == 1) {
            log.info("discarding packets: {} (first: {}); counted from now on", reason.description(), detail);
        } else if (log.isTraceEnabled()) {
            log.trace("discard: {} ({})", reason.description(), detail);
        }
    }

    void fromTun() {
        fromTun.increment();
    }

    void toUdp() {
        toUdp.increment();
    }

    void fromUdp() {
        fromUdp.increment();
    }

    void toTun() {
        toTun.increment();
    }

    /** The device gave a TCP super-segment (cut here into the segments counted by {@link #fromTun}). */
    void superSegmentFromTun() {
        superSegmentsFromTun.increment();
    }

    /** Segments from UDP went to the device joined as one super-segment (each also counted by {@link #toTun}). */
    void superSegmentToTun() {
        superSegmentsToTun.increment();
    }

    /** Server: a peer proved the secret and has an entry. */
    void authAccepted() {
        authAccepted.increment();
    }

    /** Server: a peer failed authentication (wrong proof, replay, malformed, timeout, no address). */
    void authRejected() {
        authRejected.increment();
    }

    /** Client: the server accepted us. */
    void authSucceeded() {
        authSucceeded.increment();
    }

    /** Client: authentication with a server failed. */
    void authFailed() {
        authFailed.increment();
    }

    public long discarded(Discard reason) {
        return discards.get(reason).sum();
    }

    /** All counters by name, in a stable order. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("from_tun", fromTun.sum());
        m.put("to_udp", toUdp.sum());
        m.put("from_udp", fromUdp.sum());
        m.put("to_tun", toTun.sum());
        m.put("super_segments_from_tun", superSegmentsFromTun.sum());
        m.put("super_segments_to_tun", superSegmentsToTun.sum());
        m.put("auth_accepted", authAccepted.sum());
        m.put("auth_rejected", authRejected.sum());
        m.put("auth_succeeded", authSucceeded.sum());
        m.put("auth_failed", authFailed.sum());
        for (Map.Entry<Discard, LongAdder> e : discards.entrySet()) {
            m.put("discard_" + e.getKey().name().toLowerCase(java.util.Locale.ROOT), e.getValue().sum());
        }
        return m;
    }

    /** One line with every non-zero counter, e.g. for a periodic INFO log. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        snapshot().forEach((k, v) -> {
            if (v != 0) {
                sb.append(sb.isEmpty() ? "" : " ").append(k).append('=').append(v);
            }
        });
        return sb.isEmpty() ? "no packets" : sb.toString();
    }
}
