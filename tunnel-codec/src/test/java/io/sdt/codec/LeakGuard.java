package io.sdt.codec;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Fails a test that leaks a buffer. Register it with {@code @RegisterExtension}; create every
 * channel and every input buffer through it. After each test it calls
 * {@link EmbeddedChannel#finishAndReleaseAll()} on every channel and then asserts that every buffer
 * allocated through it, by the test or by the codec (encoder headers, decoder cumulations), has
 * {@code refCnt() == 0}. Decoded payload frames hold retained slices of those buffers, so a frame
 * the test read but did not release shows up as a leak too.
 *
 * <p>Buffers are unpooled, so a released buffer keeps {@code refCnt() == 0} (a pooled one could be
 * recycled and look alive again); they are still wrapped for Netty's own (paranoid) leak detector.
 * Not thread-safe; one instance per test (JUnit creates a new test instance per test method).
 */
final class LeakGuard implements AfterEachCallback {

    private final TrackingAllocator alloc = new TrackingAllocator();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    /** A channel with the given handlers, allocating through this guard. */
    EmbeddedChannel channel(ChannelHandler... handlers) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(handlers);
        channels.add(ch);
        return ch;
    }

    /** A channel with {@link FrameEncoder} and a {@link FrameDecoder} of the default maximum. */
    EmbeddedChannel codec() {
        return codec(FrameDecoder.DEFAULT_MAX_FRAME_LENGTH);
    }

    EmbeddedChannel codec(int maxFrameLength) {
        return channel(FrameEncoder.INSTANCE, new FrameDecoder(maxFrameLength));
    }

    /** A tracked buffer holding a copy of {@code bytes}. */
    ByteBuf buffer(byte[] bytes) {
        return buffer(bytes, 0, bytes.length);
    }

    ByteBuf buffer(byte[] bytes, int offset, int length) {
        return alloc.heapBuffer(length, length).writeBytes(bytes, offset, length);
    }

    /** A tracked empty buffer that can take {@code capacity} bytes. */
    ByteBuf writable(int capacity) {
        return alloc.heapBuffer(capacity, capacity);
    }

    /** A tracked buffer of {@code length} bytes with a recognisable pattern. */
    ByteBuf pattern(int length) {
        return buffer(patternBytes(length));
    }

    /** The bytes {@link #pattern} fills in. */
    static byte[] patternBytes(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    /** How many buffers went through this guard so far. */
    int allocations() {
        return alloc.tracked.size();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        List<String> leaks = new ArrayList<>();
        for (int i = 0; i < alloc.tracked.size(); i++) {
            ByteBuf b = alloc.tracked.get(i);
            if (b.refCnt() != 0) {
                leaks.add("#" + i + " " + b.getClass().getSimpleName() + " refCnt=" + b.refCnt()
                        + " capacity=" + b.capacity());
                ReferenceCountUtil.safeRelease(b, b.refCnt());
            }
        }
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " of " + alloc.tracked.size() + " buffers leaked: " + leaks);
        }
    }

    /** Unpooled allocator that remembers every buffer it hands out. */
    private static final class TrackingAllocator extends AbstractByteBufAllocator {
        final List<ByteBuf> tracked = new ArrayList<>();

        TrackingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            tracked.add(b);
            return toLeakAwareBuffer(b);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
            tracked.add(b);
            return toLeakAwareBuffer(b);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }
}
