package io.sdt.core.link;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import io.sdt.codec.Frame;

/**
 * The authentication proofs of a link (docs/PROTOCOL.md, "Authentication"): HMAC-SHA256 keyed with
 * the token digest over a role label, the TLS channel binding and both nonces. A proof made for one
 * TLS session, one role and one pair of nonces is worthless for any other, so a relaying man in the
 * middle can neither pose as the server nor replay the client's proof.
 */
final class Proofs {

    static final byte[] SERVER_LABEL = "sdt server proof".getBytes(StandardCharsets.US_ASCII);
    static final byte[] CLIENT_LABEL = "sdt client proof".getBytes(StandardCharsets.US_ASCII);

    private Proofs() {
    }

    /** A fresh nonce from {@code random} (a {@link io.sdt.core.secret.Nonces} source: no I/O on the loop). */
    static byte[] nonce(SecureRandom random) {
        byte[] n = new byte[Frame.NONCE_LENGTH];
        random.nextBytes(n);
        return n;
    }

    static byte[] proof(Token token, byte[] label, byte[] binding, byte[] clientNonce, byte[] serverNonce) {
        byte[] key = token.key();
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(label);
            mac.update(binding);
            mac.update(clientNonce);
            mac.update(serverNonce);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
    }

    /** Constant-time comparison. */
    static boolean matches(byte[] expected, byte[] actual) {
        return MessageDigest.isEqual(expected, actual);
    }

    /** RFC 5929 tls-server-end-point binding: SHA-256 of the server leaf certificate's DER bytes. */
    static byte[] serverEndPoint(byte[] certificateDer) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(certificateDer);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
