/**
 * The SDT wire format: frames, varints, addresses, and the Netty encoder and decoder for the
 * length-prefixed stream link. No I/O and no engine code lives here; depends on netty-buffer and
 * netty-codec-base only. The format is specified in {@code docs/PROTOCOL.md}.
 */
package io.sdt.codec;
