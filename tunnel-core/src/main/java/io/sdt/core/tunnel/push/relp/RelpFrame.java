package io.sdt.core.tunnel.push.relp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCounted;

import java.nio.charset.StandardCharsets;

/**
 * One RELP frame, {@code TXNR SP COMMAND SP DATALEN [SP DATA] LF}: a command (or, from a server, its
 * {@code rsp}) with its transaction number. The frame owns {@code data} until it is released.
 *
 * @param txnr    1 to 999,999,999; 0 marks a hint, which is never answered
 * @param command 1 to 32 letters: {@code open}, {@code syslog}, {@code close}, {@code rsp}, {@code serverclose}
 * @param data    the command's data, possibly empty
 */
public record RelpFrame(int txnr, String command, ByteBuf data) {

    /** Largest transaction number; the one after it is 1. */
    public static final int MAX_TXNR = 999_999_999;
    /** Longest command name. */
    static final int MAX_COMMAND = 32;
    /** Digits in a transaction number or a data length. */
    static final int MAX_DIGITS = 9;

    /** The transaction number after {@code txnr}. */
    public static int next(int txnr) {
        return txnr >= MAX_TXNR ? 1 : txnr + 1;
    }

    /** The data as text (offers, response headers). */
    public String text() {
        return data.toString(StandardCharsets.UTF_8);
    }

    public void release() {
        ((ReferenceCounted) data).release();
    }

    /** A whole frame whose data is {@code text}. */
    public static ByteBuf encode(ByteBufAllocator alloc, int txnr, String command, String text) {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = header(alloc, txnr, command, data.length, data.length + 1);
        b.writeBytes(data);
        return b.writeByte('\n');
    }

    /**
     * The header of a frame whose {@code length} bytes of data the caller writes after it, then a
     * newline; {@code room} extra bytes are reserved in the buffer.
     */
    public static ByteBuf header(ByteBufAllocator alloc, int txnr, String command, int length, int room) {
        String head = txnr + " " + command + " " + length + (length > 0 ? " " : "");
        ByteBuf b = alloc.buffer(head.length() + room);
        b.writeCharSequence(head, StandardCharsets.US_ASCII);
        return b;
    }
}
