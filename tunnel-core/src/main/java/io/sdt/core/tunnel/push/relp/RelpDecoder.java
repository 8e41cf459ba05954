package io.sdt.core.tunnel.push.relp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;

import java.util.List;

/**
 * Cuts a byte stream into {@link RelpFrame}s. A frame that breaks the grammar (a transaction number or
 * length that is not 1 to 9 digits, a command that is not 1 to 32 letters, a missing separator or final
 * newline) or announces more data than {@code maxData} is a {@link RelpException}; as the RELP
 * specification says, the side that sees it closes the connection, and this decoder ignores what
 * follows.
 */
public final class RelpDecoder extends ByteToMessageDecoder {

    private final int maxData;
    private boolean failed;

    public RelpDecoder(int maxData) {
        this.maxData = maxData;
    }

    /** A frame that breaks RELP's grammar or limits. */
    public static final class RelpException extends DecoderException {
        public RelpException(String message) {
            super(message);
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            RelpFrame f;
            while ((f = next(in)) != null) {
                out.add(f);
            }
        } catch (RelpException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** The next whole frame of {@code in}, or null while it is incomplete; consumes only whole frames. */
    private RelpFrame next(ByteBuf in) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        long txnr = 0;
        int digits = 0;
        for (;; i++) {
            if (i >= end) {
                return null;
            }
            byte c = in.getByte(i);
            if (c >= '0' && c <= '9' && digits < RelpFrame.MAX_DIGITS) {
                txnr = txnr * 10 + (c - '0');
                digits++;
            } else if (c == ' ' && digits > 0) {
                i++;
                break;
            } else {
                throw new RelpException("bad transaction number (expected 1 to 9 digits and a space)");
            }
        }
        int cmdStart = i;
        for (;; i++) {
            if (i >= end) {
                return null;
            }
            byte c = in.getByte(i);
            if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && i - cmdStart < RelpFrame.MAX_COMMAND) {
                continue;
            }
            if (c == ' ' && i > cmdStart) {
                break;
            }
            throw new RelpException("bad command (expected 1 to 32 letters and a space)");
        }
        String command = in.toString(cmdStart, i - cmdStart, java.nio.charset.StandardCharsets.US_ASCII);
        i++;
        long length = 0;
        digits = 0;
        for (;; i++) {
            if (i >= end) {
                return null;
            }
            byte c = in.getByte(i);
            if (c >= '0' && c <= '9' && digits < RelpFrame.MAX_DIGITS) {
                length = length * 10 + (c - '0');
                digits++;
                continue;
            }
            if (digits == 0) {
                throw new RelpException("bad data length (expected 1 to 9 digits)");
            }
            if (length == 0 && c == '\n') {
                in.readerIndex(i + 1);
                return new RelpFrame((int) txnr, command, in.alloc().buffer(0, 0));
            }
            if (length > 0 && c == ' ') {
                i++;
                break;
            }
            throw new RelpException(length == 0 ? "a frame without data must end right after its length"
                    : "bad separator after the data length");
        }
        if (length > maxData) {
            throw new RelpException("a frame of " + length + " data bytes is longer than the limit of " + maxData);
        }
        if (end - i < length + 1) {
            return null;
        }
        if (in.getByte(i + (int) length) != '\n') {
            throw new RelpException("the frame does not end with a newline after its " + length + " data bytes");
        }
        ByteBuf data = in.retainedSlice(i, (int) length);
        in.readerIndex(i + (int) length + 1);
        return new RelpFrame((int) txnr, command, data);
    }
}
