package io.sdt.bench.wan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.sdt.core.tun.TunDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The WAN lab's emulated path, in user space (these machines have no netem): two TUN devices, and every
 * IP packet read from one is written to the other after a one-way delay (plus uniform jitter that keeps
 * packet order), unless a random loss drops it, at most at the bottleneck rate, behind a bottleneck
 * queue of bounded bytes (tail drop). Both directions get the same path. The devices are created here;
 * {@code wan.sh} moves each into a network namespace of its own, where the fd keeps working.
 *
 * <p>Usage: {@code DelayLine TUN_A TUN_B DELAY_MS JITTER_MS LOSS_PERCENT RATE_MBIT QUEUE_BYTES}. Prints
 * {@code ready} once both devices exist, a one-line summary per direction every 10 s and at exit, and
 * runs until its standard input closes. One event loop thread does everything: a read handle per
 * device and a release tick every 50 us.
 */
public final class DelayLine {

    private static final int MTU_BUFFER = 65536;
    private static final long TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    private DelayLine() {
    }

    /** One direction of the path. */
    static final class Direction implements EpollIoHandle {
        private final String name;
        private final FileDescriptor in;
        private final FileDescriptor out;
        private final long delayNanos;
        private final long jitterNanos;
        private final double loss;
        private final double bytesPerNano;
        private final long queueLimit;
        private final long burst;
        private final SplittableRandom random = new SplittableRandom(1);
        private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
        private final ArrayDeque<Long> due = new ArrayDeque<>();
        private long queued;
        private long lastDue;
        private double tokens;
        private long lastRefill = System.nanoTime();
        long passed;
        long lost;
        long tailDropped;
        long bytes;

        Direction(String name, FileDescriptor in, FileDescriptor out, long delayNanos, long jitterNanos, double loss,
                  double bytesPerNano, long queueLimit) {
            this.name = name;
            this.in = in;
            this.out = out;
            this.delayNanos = delayNanos;
            this.jitterNanos = jitterNanos;
            this.loss = loss;
            this.bytesPerNano = bytesPerNano;
            this.queueLimit = queueLimit;
            this.burst = Math.max(64 * 1024, (long) (bytesPerNano * TICK_NANOS * 4));
        }

        @Override
        public FileDescriptor fd() {
            return in;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            if (!((EpollIoEvent) event).ops().contains(EpollIoOps.EPOLLIN)) {
                return;
            }
            long now = System.nanoTime();
            for (int i = 0; i < 256; i++) {
                ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(MTU_BUFFER, MTU_BUFFER);
                int n;
                try {
                    ByteBuffer nio = buf.internalNioBuffer(0, MTU_BUFFER);
                    n = in.read(nio, nio.position(), nio.limit());
                } catch (IOException e) {
                    buf.release();
                    throw new IllegalStateException(name + ": read failed: " + e.getMessage(), e);
                }
                if (n <= 0) {
                    buf.release();
                    return;
                }
                buf.writerIndex(n);
                if (loss > 0 && random.nextDouble() < loss) {
                    lost++;
                    buf.release();
                    continue;
                }
                if (queued + n > queueLimit) {
                    tailDropped++;
                    buf.release();
                    continue;
                }
                long jitter = jitterNanos > 0 ? random.nextLong(-jitterNanos, jitterNanos + 1) : 0;
                long when = Math.max(lastDue, now + delayNanos + jitter); // jitter never reorders
                lastDue = when;
                held.add(buf);
                due.add(when);
                queued += n;
            }
        }

        /** Writes what is due, as far as the bottleneck's tokens go. */
        void release(long now) {
            tokens = Math.min(burst, tokens + (now - lastRefill) * bytesPerNano);
            lastRefill = now;
            while (!held.isEmpty() && due.peek() <= now) {
                ByteBuf b = held.peek();
                int n = b.readableBytes();
                if (tokens < n) {
                    return;
                }
                tokens -= n;
                held.poll();
                due.poll();
                queued -= n;
                try {
                    ByteBuffer nio = b.internalNioBuffer(b.readerIndex(), n);
                    out.write(nio, nio.position(), nio.limit());
                    passed++;
                    bytes += n;
                } catch (IOException e) {
                    tailDropped++; // the far device is gone or full
                } finally {
                    b.release();
                }
            }
        }

        String summary() {
            return String.format("%s: %d packets (%d bytes) passed, %d lost, %d tail-dropped, %d queued",
                    name, passed, bytes, lost, tailDropped, held.size());
        }

        @Override
        public void close() {
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: DelayLine TUN_A TUN_B DELAY_MS JITTER_MS LOSS_PERCENT RATE_MBIT QUEUE_BYTES");
            System.exit(2);
        }
        long delay = TimeUnit.MICROSECONDS.toNanos((long) (Double.parseDouble(args[2]) * 1000));
        long jitter = TimeUnit.MICROSECONDS.toNanos((long) (Double.parseDouble(args[3]) * 1000));
        double loss = Double.parseDouble(args[4]) / 100;
        double bytesPerNano = Double.parseDouble(args[5]) * 1e6 / 8 / 1e9;
        long queue = Long.parseLong(args[6]);
        try (TunDevice a = TunDevice.open(args[0]); TunDevice b = TunDevice.open(args[1])) {
            MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            IoEventLoop loop = (IoEventLoop) group.next();
            Direction ab = new Direction(a.name() + "->" + b.name(), a.fd(), b.fd(), delay, jitter, loss, bytesPerNano,
                    queue);
            Direction ba = new Direction(b.name() + "->" + a.name(), b.fd(), a.fd(), delay, jitter, loss, bytesPerNano,
                    queue);
            for (Direction d : new Direction[] {ab, ba}) {
                IoRegistration r = loop.register(d).sync().getNow();
                loop.submit(() -> r.submit(EpollIoOps.EPOLLIN)).sync();
            }
            loop.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                ab.release(now);
                ba.release(now);
            }, TICK_NANOS, TICK_NANOS, TimeUnit.NANOSECONDS);
            loop.scheduleAtFixedRate(() -> System.out.println(ab.summary() + "; " + ba.summary()), 10, 10,
                    TimeUnit.SECONDS);
            System.out.println("ready");
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until the script closes our standard input
            }
            loop.submit(() -> System.out.println(ab.summary() + "; " + ba.summary())).sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
