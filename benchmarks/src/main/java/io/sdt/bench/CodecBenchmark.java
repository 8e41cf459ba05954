package io.sdt.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.Frame;
import io.sdt.codec.FrameDecoder;
import io.sdt.codec.FrameEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Throughput of the frame codec for DATA frames of 64 B, 1400 B and 16 KiB payloads.
 *
 * <ul>
 *   <li>{@code encode}: {@value #BATCH} DATA frames (each a retained duplicate of one payload
 *       buffer, as the engine passes slices) written through {@link FrameEncoder} with one flush;
 *       the output buffers are read and released.</li>
 *   <li>{@code decode}: {@value #BATCH} DATA frames arriving in one read, through
 *       {@link FrameDecoder}; every frame is read and released.</li>
 *   <li>{@code passthrough}: {@value #BATCH} buffers through an {@link EmbeddedChannel} without
 *       handlers; the cost of the harness itself, for comparison with {@code encode}.</li>
 * </ul>
 *
 * <p>Scores are frames per second ({@link OperationsPerInvocation}); payload bytes per second =
 * score x {@code payload}. The encoder copies payloads of up to 256 bytes and passes larger ones
 * on without copying, so 64 B measures the copy path and 1400 B / 16 KiB the zero-copy path.
 *
 * <p>Both directions use an {@link EmbeddedChannel} with Netty's default allocator, one per
 * benchmark thread (not an event loop thread), so allocation takes the allocator's path for
 * foreign threads. Leak detection is off in the forked JVM so that it does not skew the numbers.
 * Give it a few seconds of warmup: one-second iterations are still in the JIT's warmup.
 *
 * <p>Wire overhead per DATA frame (channel id below 128; {@link FrameOverhead} prints the full
 * table by encoding real frames, and docs/PROTOCOL.md explains it):
 * <pre>
 *   payload      64 B:  3 bytes (length 1 + type 1 + channel 1)   4.7 %
 *   payload    1400 B:  4 bytes (length 2 + type 1 + channel 1)   0.29 %
 *   payload  16 KiB  :  5 bytes (length 3 + type 1 + channel 1)   0.03 %
 * </pre>
 *
 * <p>Run: {@code java -cp "benchmarks/target/classes:benchmarks/target/lib/*" org.openjdk.jmh.Main CodecBenchmark}
 * (after {@code ./mvnw -pl benchmarks -am package -DskipTests}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "-Dio.netty.leakDetection.level=disabled"})
public class CodecBenchmark {

    /** Frames per decode invocation: one read carrying this many frames. */
    static final int BATCH = 16;
    private static final int CHANNEL = 5;

    @Param({"64", "1400", "16384"})
    int payload;

    private EmbeddedChannel encoder;
    private EmbeddedChannel decoder;
    private EmbeddedChannel empty;
    private ByteBuf payloadBuf;
    private ByteBuf wire;

    @Setup(Level.Trial)
    public void setUp() {
        encoder = new EmbeddedChannel(FrameEncoder.INSTANCE);
        decoder = new EmbeddedChannel(new FrameDecoder());
        empty = new EmbeddedChannel();

        ByteBufAllocator alloc = encoder.alloc();
        payloadBuf = alloc.directBuffer(payload);
        for (int i = 0; i < payload; i++) {
            payloadBuf.writeByte(i);
        }

        // The decode input: BATCH encoded frames, contiguous in one direct buffer.
        wire = alloc.directBuffer();
        for (int i = 0; i < BATCH; i++) {
            encoder.writeOutbound(new Frame.Data(CHANNEL, payloadBuf.retainedDuplicate()));
            for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
                wire.writeBytes(b);
                b.release();
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        encoder.finishAndReleaseAll();
        decoder.finishAndReleaseAll();
        empty.finishAndReleaseAll();
        payloadBuf.release();
        wire.release();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encode(Blackhole bh) {
        Object[] frames = new Object[BATCH];
        for (int i = 0; i < BATCH; i++) {
            frames[i] = new Frame.Data(CHANNEL, payloadBuf.retainedDuplicate());
        }
        encoder.writeOutbound(frames);
        for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
            bh.consume(b.readableBytes());
            b.release();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void decode(Blackhole bh) {
        decoder.writeInbound(wire.retainedDuplicate());
        for (Object msg; (msg = decoder.readInbound()) != null; ) {
            Frame.Data d = (Frame.Data) msg;
            bh.consume(d.content().readableBytes());
            ReferenceCountUtil.release(msg);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void passthrough(Blackhole bh) {
        Object[] buffers = new Object[BATCH];
        for (int i = 0; i < BATCH; i++) {
            buffers[i] = payloadBuf.retainedDuplicate();
        }
        empty.writeOutbound(buffers);
        for (ByteBuf b; (b = empty.readOutbound()) != null; ) {
            bh.consume(b.readableBytes());
            b.release();
        }
    }
}
