package io.sdt.core.tun;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * The TUN file descriptor as a Netty epoll {@link EpollIoHandle} (no JNI of our own: FFM opens it, Netty polls it): level-triggered
 * {@code EPOLLIN}; each wake-up reads up to {@link #BATCH} packets (one IP packet per {@code read}) into
 * direct buffers sized to the TUN's MTU, hands each to {@code sink} (which takes ownership), then runs
 * {@code batchDone} once (to flush the UDP socket). Runs only on the event loop it is registered with.
 * With offloads a read buffer is 64 KiB: a read much smaller than its buffer (an ACK, a full-sized packet)
 * is copied into one of its own size first, so packets waiting for a socket or a link do not each hold
 * 64 KiB.
 */
public final class TunReader implements EpollIoHandle {

    /** Packets read per wake-up before yielding to other channels on the loop. */
    public static final int BATCH = 64;
    /** Buffers at least this large are not kept for reads of under a quarter of them. */
    static final int COMPACT_FROM = 16 * 1024;

    private final FileDescriptor fd;
    private final ByteBufAllocator alloc;
    private final IntSupplier bufferSize;
    private final Consumer<ByteBuf> sink;
    private final Runnable batchDone;
    private final Consumer<Throwable> onError;

    public TunReader(FileDescriptor fd, ByteBufAllocator alloc, IntSupplier bufferSize, Consumer<ByteBuf> sink,
              Runnable batchDone, Consumer<Throwable> onError) {
        this.fd = fd;
        this.alloc = alloc;
        this.bufferSize = bufferSize;
        this.sink = sink;
        this.batchDone = batchDone;
        this.onError = onError;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        EpollIoOps ops = ((EpollIoEvent) event).ops();
        if (!ops.contains(EpollIoOps.EPOLLIN) && !ops.contains(EpollIoOps.EPOLLERR)) {
            return;
        }
        try {
            int size = bufferSize.getAsInt();
            for (int i = 0; i < BATCH; i++) {
                ByteBuf buf = alloc.directBuffer(size, size);
                int n;
                try {
                    ByteBuffer nio = buf.internalNioBuffer(0, size);
                    n = fd.read(nio, nio.position(), nio.limit());
                } catch (IOException | RuntimeException e) {
                    buf.release();
                    throw e;
                }
                if (n <= 0) {
                    buf.release();
                    break;
                }
                buf.writerIndex(n);
                sink.accept(size >= COMPACT_FROM && n < size / 4 ? compact(buf) : buf);
            }
        } catch (IOException e) {
            registration.cancel();
            onError.accept(e);
        } finally {
            batchDone.run();
        }
    }

    private ByteBuf compact(ByteBuf read) {
        ByteBuf copy = alloc.directBuffer(read.readableBytes());
        copy.writeBytes(read, read.readerIndex(), read.readableBytes());
        read.release();
        return copy;
    }

    @Override
    public void close() {
        // the engine closes the device
    }
}
