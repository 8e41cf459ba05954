package io.sdt.server;

import java.util.Locale;

/** Parses byte sizes such as {@code 65536}, {@code 512k}, {@code 4m}, {@code 1g} (powers of 1024). */
final class Sizes {

    private Sizes() {
    }

    static int parse(String text) {
        long v = parseLong(text);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("size out of range");
        }
        return (int) v;
    }

    /** Like {@link #parse} but up to 2^62 bytes (a budget may exceed 2 GiB). */
    static long parseLong(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.endsWith("ib")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> mult = 1L << 10;
                case 'm' -> mult = 1L << 20;
                case 'g' -> mult = 1L << 30;
                default -> mult = 1;
            }
            if (mult > 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            long n = Long.parseLong(t);
            if (n <= 0 || n > (1L << 62) / mult) {
                throw new IllegalArgumentException("size out of range");
            }
            return n * mult;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size (expected e.g. 65536, 512k, 4m)");
        }
    }
}
