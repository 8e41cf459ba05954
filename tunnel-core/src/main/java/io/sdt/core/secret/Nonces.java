package io.sdt.core.secret;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Randomness for protocol nonces that does no I/O once made: the JDK's {@code DRBG} (NIST SP 800-90A
 * Hash_DRBG), seeded once from the operating system when it is created. The Linux default,
 * {@code NativePRNG}, reads {@code /dev/urandom} on every call, which would be a file read on the event
 * loop that runs a handshake. Create one per node, on the thread that starts it, never on an event loop.
 */
public final class Nonces {

    private Nonces() {
    }

    /** A new, seeded source; thread-safe. */
    public static SecureRandom source() {
        try {
            SecureRandom drbg = SecureRandom.getInstance("DRBG");
            drbg.nextBytes(new byte[1]); // seeds now, on the caller's thread
            return drbg;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no DRBG SecureRandom", e);
        }
    }
}
