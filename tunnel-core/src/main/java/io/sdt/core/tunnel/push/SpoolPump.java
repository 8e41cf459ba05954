package io.sdt.core.tunnel.push;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.push.spool.DurableSpool;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A durable push ingress's bridge between its event loop and its {@link DurableSpool}, which does
 * blocking file I/O and so lives on a thread of its own. The loop hands over each read burst of
 * records ({@link #offer}, {@link #flush}); the spool thread appends them, forces them to disk as the
 * fsync policy says, and tells the loop how far the spool goes. The loop asks for records to send
 * ({@link #fetch}) and passes on the egress's acknowledgements ({@link #ack}); both are served from
 * disk, so a restarted ingress resends exactly what was never acknowledged.
 *
 * <p>A full spool (its {@code spool-max=}) either holds the records back until acknowledgements make
 * room (overflow=block: the ingress stops reading its producers meanwhile) or drops and counts them
 * (overflow=drop).
 *
 * <p>The methods without "spool thread" in their description run on the loop; callbacks come back on it.
 */
final class SpoolPump {

    private static final Logger log = LogManager.getLogger(SpoolPump.class);
    /** Most bytes of records one fetch brings to the loop. */
    static final int FETCH_BYTES = 256 * 1024;

    /** What the loop hears from the spool thread. */
    interface Listener {
        /**
         * Records up to {@code last} are in the spool; {@code full} while overflow=block holds records back;
         * {@code taken} bytes handed over by {@link #flush} have been dealt with; the first {@code settled}
         * records ever {@link #offer}ed are in the spool (synced as the fsync policy says) or dropped.
         */
        void appended(long last, boolean full, long taken, long settled);

        /** Records dropped because the spool was full (overflow=drop). */
        void dropped(int records);
    }

    /** A record read back for sending, with its sequence. */
    record Fetched(long seq, ByteBuf record) {
    }

    private final EventLoop loop;
    private final ExecutorService thread;
    private final DurableSpool spool;
    private final boolean drop;
    private final Listener listener;
    private final byte[] id;
    private final String name;
    // the spool thread's
    private final ArrayDeque<ByteBuffer> held = new ArrayDeque<>();
    private DurableSpool.Reader reader;
    /** Records offered and then appended or dropped, in the order offered. */
    private long settled;
    // the loop's
    private List<ByteBuffer> batch = new ArrayList<>();
    private boolean closed;
    private final java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();

    private SpoolPump(EventLoop loop, DurableSpool spool, boolean drop, Listener listener, String name) {
        this.loop = loop;
        this.spool = spool;
        this.drop = drop;
        this.listener = listener;
        this.name = name;
        this.id = HexFormat.of().parseHex(spool.id());
        // the loop hands work over without ever parking: a lock-free queue, and the one thread started now
        // (a ThreadPoolExecutor's own queue and its first execute() take locks the loop could wait on;
        // BlockHound caught the loop parking in LinkedBlockingQueue.offer)
        ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedTransferQueue<>(),
                r -> {
                    Thread t = new Thread(r, "sdt-spool " + name);
                    t.setDaemon(true);
                    return t;
                });
        pool.prestartAllCoreThreads();
        this.thread = pool;
    }

    /**
     * Opens the spool of {@code durable} (on the caller's thread: a bad directory fails the tunnel
     * before it listens) and the thread that drives it.
     */
    static SpoolPump open(EventLoop loop, TunnelSpec.DurablePush durable, Listener listener, String name) {
        DurableSpool.Fsync fsync = DurableSpool.Fsync.valueOf(durable.fsync().toUpperCase(java.util.Locale.ROOT));
        // several segments per spool, so acknowledged ones can go while the rest is still in use
        long segment = Math.min(16L << 20, Math.max(4096, durable.maxBytes() / 8));
        DurableSpool spool = DurableSpool.open(durable.dir(), durable.maxBytes(), segment, fsync,
                TimeUnit.SECONDS.toNanos(1));
        if (spool.recoveredPartial() + spool.recoveredCorrupt() > 0) {
            log.warn("{}: spool {} recovered after a crash: {} partial record(s) and {} corrupt segment tail(s) discarded",
                    name, durable.dir(), spool.recoveredPartial(), spool.recoveredCorrupt());
        }
        if (spool.pending() > 0) {
            log.info("{}: spool {} holds {} unacknowledged record(s) from before; they are sent first", name,
                    durable.dir(), spool.pending());
        }
        return new SpoolPump(loop, spool, durable.drop(), listener, name);
    }

    /** The spool's identity, for PUSH_SEQ. */
    byte[] id() {
        return id.clone();
    }

    /** The last record appended before this pump started (what a new channel may send from the start). */
    long lastAppended() {
        return spool.nextSequence() - 1;
    }

    /** The highest acknowledged sequence when the spool was opened. */
    long ackedAtStart() {
        return spool.acked();
    }

    /** Takes a record read from a producer (released here); it is appended with the rest of its burst. */
    void offer(ByteBuf record) {
        ByteBuffer copy = ByteBuffer.allocate(record.readableBytes());
        record.readBytes(copy);
        record.release();
        batch.add(copy.flip());
    }

    /** Hands the burst to the spool thread; returns its bytes (reported back as {@code taken}). */
    long flush() {
        if (batch.isEmpty() || closed) {
            return 0;
        }
        List<ByteBuffer> records = batch;
        batch = new ArrayList<>();
        long bytes = 0;
        for (ByteBuffer r : records) {
            bytes += r.remaining();
        }
        long taken = bytes;
        thread.execute(guarded(() -> append(records, taken)));
        return bytes;
    }

    /** Spool thread: appends what fits, holds or drops the rest, syncs, and tells the loop. */
    private void append(List<ByteBuffer> records, long taken) {
        int dropped = 0;
        for (ByteBuffer r : records) {
            if (!held.isEmpty()) {
                held.add(r); // keep the order behind what already waits
            } else if (spool.append(r) >= 0) {
                settled++;
            } else if (drop) {
                dropped++;
                settled++;
            } else {
                held.add(r);
            }
        }
        spool.sync();
        tell(dropped, taken);
    }

    private void tell(int dropped, long taken) {
        long last = spool.nextSequence() - 1;
        boolean full = !held.isEmpty();
        long done = settled;
        loop.execute(() -> {
            if (dropped > 0) {
                listener.dropped(dropped);
            }
            listener.appended(last, full, taken, done);
        });
    }

    /**
     * Reads the records after {@code after}, at most about {@code maxBytes} of them, on the spool thread;
     * {@code done} gets them on the loop (the caller owns the buffers).
     */
    void fetch(long after, int maxBytes, java.util.function.Consumer<List<Fetched>> done) {
        if (closed) {
            return;
        }
        thread.execute(guarded(() -> {
            if (reader == null || reader.position() != after + 1) {
                reader = spool.readAfter(after);
            }
            List<Fetched> out = new ArrayList<>();
            int bytes = 0;
            while (bytes < Math.min(maxBytes, FETCH_BYTES)) {
                ByteBuffer r = reader.next();
                if (r == null) {
                    break;
                }
                long seq = reader.position() - 1; // the reader skips gaps left by corruption
                bytes += r.remaining();
                out.add(new Fetched(seq, Unpooled.wrappedBuffer(r)));
                if (bytes + 64 * 1024 > maxBytes) {
                    break; // the next record might not fit the credit
                }
            }
            loop.execute(() -> done.accept(out));
        }));
    }

    /** The egress delivered everything up to {@code seq}: free it on disk, and let held records in. */
    void ack(long seq) {
        if (closed) {
            return; // acknowledged again after the next start: the records are resent, the egress drops them
        }
        thread.execute(guarded(() -> {
            spool.ack(seq);
            if (!held.isEmpty()) {
                while (!held.isEmpty() && spool.append(held.peek()) >= 0) {
                    held.poll();
                    settled++;
                }
                spool.sync();
                tell(0, 0);
            }
        }));
    }

    /** A spool thread task whose failure (a disk error) is logged loudly instead of vanishing with the task. */
    private Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("{}: the durable spool failed: {}", name, e.toString(), e);
            }
        };
    }

    /**
     * Appends what the loop still holds, then stops the spool thread and closes the spool; what is on disk
     * stays for the next start. The future completes once the spool is closed.
     */
    java.util.concurrent.CompletableFuture<Void> close() {
        if (closed) {
            return done;
        }
        flush();
        closed = true;
        thread.execute(() -> {
            try {
                if (!held.isEmpty()) {
                    log.warn("{}: closed with {} record(s) that did not fit the full spool", name, held.size());
                }
                spool.close();
            } catch (RuntimeException e) {
                log.error("{}: closing the durable spool failed: {}", name, e.toString(), e);
            } finally {
                done.complete(null);
            }
        });
        thread.shutdown();
        return done;
    }
}
