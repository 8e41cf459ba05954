package io.sdt.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;

/** Random payloads streamed with their SHA-256, and helpers to read streams to the end. */
public final class Payloads {

    private Payloads() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code size} pseudo-random bytes from {@code seed}; returns their SHA-256. */
    public static byte[] write(OutputStream out, long size, long seed) throws IOException {
        MessageDigest md = sha256();
        SplittableRandom r = new SplittableRandom(seed);
        byte[] buf = new byte[64 * 1024];
        for (long left = size; left > 0; ) {
            int n = (int) Math.min(buf.length, left);
            for (int i = 0; i < n; i += 8) {
                long v = r.nextLong();
                for (int k = 0; k < 8 && i + k < n; k++) {
                    buf[i + k] = (byte) (v >>> (8 * k));
                }
            }
            md.update(buf, 0, n);
            out.write(buf, 0, n);
            left -= n;
        }
        out.flush();
        return md.digest();
    }

    /** The SHA-256 of what {@link #write} would write for the same size and seed. */
    public static byte[] digestOf(long size, long seed) throws IOException {
        return write(OutputStream.nullOutputStream(), size, seed);
    }

    /** Reads to EOF; returns the SHA-256 and stores the count in {@code count[0]}. */
    public static byte[] readAll(InputStream in, long[] count) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
            total += n;
        }
        count[0] = total;
        return md.digest();
    }
}
