package io.sdt.core.link;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * A self-signed X.509 v3 certificate for an EC P-256 key, signed with ECDSA over SHA-256, written out in DER
 * by hand (RFC 5280 section 4.1; no extensions): what a server without {@code --cert} presents. Its clients
 * do not check it against a CA (they authenticate with the token, or pin it); it only has to be a valid
 * certificate for the key. Doing this with the JDK alone keeps a certificate library, and the time its
 * signed jars cost at every start, out of the node.
 */
final class EphemeralCertificate {

    /** ecdsa-with-SHA256, 1.2.840.10045.4.3.2 (RFC 5758): the AlgorithmIdentifier has no parameters. */
    private static final byte[] ECDSA_SHA256 = {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};
    /** id-at-commonName, 2.5.4.3. */
    private static final byte[] COMMON_NAME = {0x55, 0x04, 0x03};
    private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter GENERALIZED_TIME =
            DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

    private EphemeralCertificate() {
    }

    /** A certificate for {@code keys} (EC), subject and issuer {@code CN=commonName}, valid from {@code from} to {@code until}. */
    static X509Certificate create(KeyPair keys, String commonName, Instant from, Instant until)
            throws GeneralSecurityException {
        if (!(keys.getPrivate() instanceof ECPrivateKey)) {
            throw new GeneralSecurityException("an EC key is needed, not " + keys.getPrivate().getAlgorithm());
        }
        byte[] algorithm = sequence(tlv(0x06, ECDSA_SHA256));
        byte[] name = sequence(tlv(0x31, sequence(tlv(0x06, COMMON_NAME),
                tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
        byte[] serial = tlv(0x02, new BigInteger(63, new SecureRandom()).add(BigInteger.ONE).toByteArray());
        byte[] tbs = sequence(
                tlv(0xa0, tlv(0x02, new byte[] {2})),            // [0] version: v3
                serial,
                algorithm,
                name,                                            // issuer
                sequence(time(from), time(until)),               // validity
                name,                                            // subject
                keys.getPublic().getEncoded());                  // SubjectPublicKeyInfo, DER already
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(keys.getPrivate());
        signer.update(tbs);
        byte[] signature = signer.sign();                        // DER Ecdsa-Sig-Value
        byte[] bits = new byte[signature.length + 1];            // BIT STRING: no unused bits
        System.arraycopy(signature, 0, bits, 1, signature.length);
        byte[] der = sequence(tbs, algorithm, tlv(0x03, bits));
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }

    /** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5). */
    private static byte[] time(Instant t) {
        boolean utc = t.atZone(ZoneOffset.UTC).getYear() < 2050;
        return tlv(utc ? 0x17 : 0x18, (utc ? UTC_TIME : GENERALIZED_TIME).format(t).getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return tlv(0x30, out.toByteArray());
    }

    /** One DER element: tag, definite length (short or long form), contents. */
    private static byte[] tlv(int tag, byte[] contents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(contents.length + 6);
        out.write(tag);
        int n = contents.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(contents);
        return out.toByteArray();
    }
}
