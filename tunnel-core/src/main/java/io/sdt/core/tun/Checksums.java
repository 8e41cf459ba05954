package io.sdt.core.tun;

import io.netty.buffer.ByteBuf;

/**
 * The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of 16-bit
 * big-endian words. Summing 32-bit words and folding gives the same result (RFC 1071 §2), which halves
 * the loop count. Callers add what their checksum covers (a pseudo-header, a header, a payload) and
 * {@link #finish} the sum. Stateless; never changes reader or writer indexes.
 */
public final class Checksums {

    private Checksums() {
    }

    /** Adds {@code length} bytes of {@code buf} from {@code index} to {@code acc}; an odd tail is zero-padded. */
    public static long add(long acc, ByteBuf buf, int index, int length) {
        int i = index;
        int end = index + length;
        for (; i + 4 <= end; i += 4) {
            acc += buf.getUnsignedInt(i);
        }
        if (i + 2 <= end) {
            acc += buf.getUnsignedShort(i);
            i += 2;
        }
        if (i < end) {
            acc += buf.getUnsignedByte(i) << 8;
        }
        return acc;
    }

    /** Adds a 32-bit value (an IPv4 address, a length) as two 16-bit words. */
    public static long add(long acc, int value) {
        return acc + (value >>> 16) + (value & 0xFFFF);
    }

    /** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
    public static int finish(long acc) {
        while ((acc >>> 16) != 0) {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int) (~acc & 0xFFFF);
    }
}
