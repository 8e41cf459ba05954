package io.sdt.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sdt.codec.Frame;
import io.sdt.codec.FrameEncoder;

/**
 * Prints the wire overhead of DATA frames (DATAGRAM is the same) by encoding real frames with
 * {@link FrameEncoder}: bytes on the wire minus payload bytes, for typical payload sizes and
 * channel ids. Run: {@code java -cp "benchmarks/target/classes:benchmarks/target/lib/*" io.sdt.bench.FrameOverhead}.
 */
public final class FrameOverhead {

    private static final int[] PAYLOADS = {0, 64, 125, 126, 1400, 16_381, 16_384, 65_536, 1_048_574};
    private static final int[] CHANNELS = {1, 128, 16_384, 268_435_455};

    private FrameOverhead() {
    }

    public static void main(String[] args) {
        System.out.printf("%12s", "payload \\ ch");
        for (int channel : CHANNELS) {
            System.out.printf("%12d", channel);
        }
        System.out.println();
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
        try {
            for (int payload : PAYLOADS) {
                System.out.printf("%12d", payload);
                for (int channel : CHANNELS) {
                    System.out.printf("%12s", overhead(ch, channel, payload) + " B");
                }
                System.out.println();
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    /** Bytes the encoder writes for one DATA frame beyond its payload. */
    static int overhead(EmbeddedChannel ch, int channel, int payload) {
        ch.writeOutbound(new Frame.Data(channel, Unpooled.wrappedBuffer(new byte[payload])));
        int bytes = 0;
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            bytes += b.readableBytes();
            b.release();
        }
        return bytes - payload;
    }
}
