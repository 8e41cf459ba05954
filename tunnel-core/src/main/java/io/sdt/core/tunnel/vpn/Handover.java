package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.sdt.core.link.Link;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Packets crossing from the device's thread to one link's event loop: collected over a device read burst
 * and handed over in one task, so the loop is woken once per burst, not once per packet. Bounded: with
 * {@link #MAX_IN_FLIGHT} bytes handed over and not yet sent (a few thousand full-sized packets, or 64 TCP
 * super-segments), further ones are dropped and counted ({@code congested}), as a router drops when its
 * output queue is full.
 */
final class Handover {

    /** Bytes handed to a link's loop and not yet sent: beyond, the device thread drops. */
    static final int MAX_IN_FLIGHT = 4 << 20;

    private final VpnCounters counters;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Device thread: this burst's packets. */
    private List<ByteBuf> batch = new ArrayList<>();
    /** Device thread: the bytes of {@link #batch}. */
    private int batchBytes;

    Handover(VpnCounters counters) {
        this.counters = counters;
    }

    /**
     * Device thread: keeps {@code packet} for this burst (it is this object's now).
     *
     * @return true if it is the burst's first (the caller remembers to {@link #handOver} at the burst's end)
     */
    boolean add(ByteBuf packet) {
        if (inFlight.get() + batchBytes + packet.readableBytes() > MAX_IN_FLIGHT) {
            counters.dropped(VpnCounters.Drop.CONGESTED);
            packet.release();
            return false;
        }
        batchBytes += packet.readableBytes();
        batch.add(packet);
        return batch.size() == 1;
    }

    /** Device thread, at a burst's end: the burst goes to {@code link}'s loop, each packet to {@code send}, then a flush. */
    void handOver(Link link, Consumer<ByteBuf> send) {
        if (batch.isEmpty()) {
            return;
        }
        List<ByteBuf> packets = batch;
        int bytes = batchBytes;
        batch = new ArrayList<>();
        batchBytes = 0;
        inFlight.addAndGet(bytes);
        link.eventLoop().execute(() -> {
            inFlight.addAndGet(-bytes);
            packets.forEach(send);
            link.flush();
        });
    }

    /** Device thread: the burst's packets have nowhere to go (no link); released and counted. */
    void discard(VpnCounters.Drop reason) {
        for (ByteBuf p : batch) {
            counters.dropped(reason);
            p.release();
        }
        batch = new ArrayList<>();
        batchBytes = 0;
    }

    /** One packet from any thread (another client's loop) to {@code link}'s loop; same bound. */
    void one(Link link, ByteBuf packet, Consumer<ByteBuf> send) {
        if (link.eventLoop().inEventLoop()) {
            send.accept(packet);
            link.flush();
            return;
        }
        int bytes = packet.readableBytes();
        if (inFlight.addAndGet(bytes) > MAX_IN_FLIGHT) {
            inFlight.addAndGet(-bytes);
            counters.dropped(VpnCounters.Drop.CONGESTED);
            packet.release();
            return;
        }
        link.eventLoop().execute(() -> {
            inFlight.addAndGet(-bytes);
            send.accept(packet);
            link.flush();
        });
    }
}
