package io.sdt.core.link;

import org.junit.jupiter.api.Test;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DER written by hand is a certificate the JDK parses and verifies, with the fields asked for. */
class EphemeralCertificateTest {

    @Test
    void aSelfSignedCertificateTheJdkParsesAndVerifies() throws Exception {
        KeyPair keys = TlsSetup.newKeyPair();
        Instant from = Instant.parse("2026-01-02T03:04:05Z");
        Instant until = from.plus(Duration.ofDays(3650));
        X509Certificate c = EphemeralCertificate.create(keys, "sdt", from, until);
        c.verify(keys.getPublic()); // signed by its own key
        assertEquals(3, c.getVersion());
        assertEquals("CN=sdt", c.getSubjectX500Principal().getName());
        assertEquals(c.getSubjectX500Principal(), c.getIssuerX500Principal());
        assertEquals("SHA256withECDSA", c.getSigAlgName());
        assertEquals("1.2.840.10045.4.3.2", c.getSigAlgOID());
        assertNull(c.getSigAlgParams(), "ecdsa-with-SHA256 has no parameters");
        assertArrayEquals(keys.getPublic().getEncoded(), c.getPublicKey().getEncoded());
        assertEquals(Date.from(from), c.getNotBefore());
        assertEquals(Date.from(until), c.getNotAfter(), "2036: past 2049 would need GeneralizedTime");
        assertTrue(c.getSerialNumber().signum() > 0, "a positive serial");
        assertTrue(c.getSerialNumber().bitLength() <= 64, "at most 8 octets of serial (RFC 5280: up to 20)");
        c.checkValidity(Date.from(from.plus(Duration.ofDays(1))));
    }

    @Test
    void datesFrom2050AreGeneralizedTimeAndLongNamesTakeLongLengths() throws Exception {
        KeyPair keys = TlsSetup.newKeyPair();
        Instant from = Instant.parse("2049-12-31T23:59:59Z");
        Instant until = Instant.parse("2051-06-01T00:00:00Z");
        String longName = "n".repeat(300); // a name over 255 bytes: two-byte DER lengths
        X509Certificate c = EphemeralCertificate.create(keys, longName, from, until);
        c.verify(keys.getPublic());
        assertEquals(Date.from(until), c.getNotAfter());
        assertEquals(Date.from(from), c.getNotBefore());
        assertEquals("CN=" + longName, c.getSubjectX500Principal().getName());
    }

    @Test
    void twoCertificatesDifferInSerialAndSignature() throws Exception {
        KeyPair keys = TlsSetup.newKeyPair();
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        X509Certificate a = EphemeralCertificate.create(keys, "sdt", now, now.plusSeconds(60));
        X509Certificate b = EphemeralCertificate.create(keys, "sdt", now, now.plusSeconds(60));
        assertNotEquals(a.getSerialNumber(), b.getSerialNumber());
        assertNotEquals(new String(a.getSignature()), new String(b.getSignature()));
    }

    @Test
    void anRsaKeyIsRefused() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair keys = rsa.generateKeyPair();
        assertThrows(GeneralSecurityException.class,
                () -> EphemeralCertificate.create(keys, "sdt", Instant.now(), Instant.now().plusSeconds(60)));
    }
}
