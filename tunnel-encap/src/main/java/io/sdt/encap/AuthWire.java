package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.sdt.core.secret.SharedSecret;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The authentication exchange on TCP listen-port (docs/UDP-ENCAP-TUN.md has the diagram). Three
 * fixed-length messages, each starting with the magic {@code "SDTE"}, version 1 and a type byte:
 * <pre>
 *   server -> client  CHALLENGE  SDTE 01 01 | Ns (32)             38 bytes
 *   client -> server  RESPONSE   SDTE 01 02 | Nc (32) | Pc (32)   70 bytes
 *   server -> client  ACCEPT     SDTE 01 03 | Ps (32)             38 bytes
 *                  or REJECT     SDTE 01 04 | 32 zero bytes       38 bytes
 *   Pc = HMAC-SHA256(K, "sdt udp-encap-tun client" || Ns || Nc)
 *   Ps = HMAC-SHA256(K, "sdt udp-encap-tun server" || Ns || Nc)
 * </pre>
 * The secret never crosses the wire; proofs are compared in constant time. Stateless.
 */
final class AuthWire {

    static final int NONCE = 32;
    static final int PROOF = 32;
    static final int PREFIX = 6;
    static final int CHALLENGE_LENGTH = PREFIX + NONCE;
    static final int RESPONSE_LENGTH = PREFIX + NONCE + PROOF;
    static final int VERDICT_LENGTH = PREFIX + PROOF;
    static final int CHALLENGE = 1;
    static final int RESPONSE = 2;
    static final int ACCEPT = 3;
    static final int REJECT = 4;
    private static final byte[] MAGIC = {'S', 'D', 'T', 'E'};
    private static final int VERSION = 1;
    private static final byte[] CLIENT_LABEL = "sdt udp-encap-tun client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_LABEL = "sdt udp-encap-tun server".getBytes(StandardCharsets.US_ASCII);

    private AuthWire() {
    }

    static byte[] nonce(SecureRandom random) {
        byte[] n = new byte[NONCE];
        random.nextBytes(n);
        return n;
    }

    /** A message: prefix with {@code type}, then the given fields. The caller sends it (and so releases it). */
    static ByteBuf message(ByteBufAllocator alloc, int type, byte[]... fields) {
        int len = PREFIX;
        for (byte[] f : fields) {
            len += f.length;
        }
        ByteBuf b = alloc.buffer(len);
        b.writeBytes(MAGIC).writeByte(VERSION).writeByte(type);
        for (byte[] f : fields) {
            b.writeBytes(f);
        }
        return b;
    }

    /** The type byte of the message at the reader index, or -1 if the magic or version is wrong. */
    static int type(ByteBuf in) {
        int r = in.readerIndex();
        for (int i = 0; i < MAGIC.length; i++) {
            if (in.getByte(r + i) != MAGIC[i]) {
                return -1;
            }
        }
        return in.getUnsignedByte(r + 4) == VERSION ? in.getUnsignedByte(r + 5) : -1;
    }

    /** Reads {@code length} bytes at {@code offset} from the reader index, without moving it. */
    static byte[] field(ByteBuf in, int offset, int length) {
        byte[] b = new byte[length];
        in.getBytes(in.readerIndex() + offset, b);
        return b;
    }

    static byte[] clientProof(SharedSecret secret, byte[] serverNonce, byte[] clientNonce) {
        return hmac(secret, CLIENT_LABEL, serverNonce, clientNonce);
    }

    static byte[] serverProof(SharedSecret secret, byte[] serverNonce, byte[] clientNonce) {
        return hmac(secret, SERVER_LABEL, serverNonce, clientNonce);
    }

    /** Constant-time comparison. */
    static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    private static byte[] hmac(SharedSecret secret, byte[] label, byte[] serverNonce, byte[] clientNonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.key(), "HmacSHA256"));
            mac.update(label);
            mac.update(serverNonce);
            return mac.doFinal(clientNonce);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
