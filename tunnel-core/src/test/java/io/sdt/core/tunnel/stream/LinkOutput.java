package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sdt.codec.Frame;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** What a link over an {@link EmbeddedChannel} wrote, for the stream tests; and their payloads. */
final class LinkOutput {

    private LinkOutput() {
    }

    /** A payload of {@code n} zero bytes. */
    static ByteBuf bytes(int n) {
        return Unpooled.wrappedBuffer(new byte[n]);
    }

    /** Every frame the link wrote since the last call; the caller releases DATA. */
    static List<Frame> drain(EmbeddedChannel linkCh) {
        List<Frame> out = new ArrayList<>();
        Object o;
        while ((o = linkCh.readOutbound()) != null) {
            out.add((Frame) o);
        }
        return out;
    }

    /** The sizes of the DATA frames the link wrote since the last call, which must all be DATA (released). */
    static List<Integer> dataSizes(EmbeddedChannel linkCh) {
        List<Integer> sizes = new ArrayList<>();
        for (Frame f : drain(linkCh)) {
            Frame.Data d = assertInstanceOf(Frame.Data.class, f);
            sizes.add(d.content().readableBytes());
            d.release();
        }
        return sizes;
    }
}
