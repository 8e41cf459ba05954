package io.sdt.encap;

import io.netty.buffer.ByteBuf;

import java.io.IOException;

/** Where packets bound for the TUN go: the device itself, or a recorder in tests. Called on the event loop. */
interface TunSink {

    /**
     * Writes one IPv4 packet made of {@code header} and {@code segment} (their readable bytes). Ownership of
     * both stays with the caller.
     */
    void write(ByteBuf header, ByteBuf segment) throws IOException;
}
