package io.sdt.core.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/** A throw-away CA that issues server and client certificates as PEM files, for TLS tests. */
public final class Pki {

    private static final AtomicLong SERIAL = new AtomicLong(1000);
    private final Path dir;
    private final String name;
    private final KeyPair caKeys;
    private final X509Certificate ca;

    public Pki(Path dir, String name) throws Exception {
        this.dir = dir;
        this.name = name;
        this.caKeys = keys();
        this.ca = issue(new X500Name("CN=" + name + " CA"), caKeys, caKeys, new X500Name("CN=" + name + " CA"), true, null);
    }

    /** The CA certificate as a PEM file. */
    public Path caFile() throws Exception {
        return write(name + "-ca.pem", ca);
    }

    /** A certificate for 127.0.0.1 / localhost: {cert.pem, key.pem}. */
    public Path[] issue(String cn) throws Exception {
        KeyPair k = keys();
        GeneralNames san = new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")});
        X509Certificate cert = issue(new X500Name("CN=" + name + " CA"), caKeys, k, new X500Name("CN=" + cn), false, san);
        return new Path[] {write(name + "-" + cn + ".pem", cert), write(name + "-" + cn + "-key.pem", k.getPrivate())};
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        return kpg.generateKeyPair();
    }

    private static X509Certificate issue(X500Name issuer, KeyPair issuerKeys, KeyPair subjectKeys, X500Name subject,
                                         boolean isCa, GeneralNames san) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject,
                subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        if (san != null) {
            b.addExtension(Extension.subjectAlternativeName, false, san);
        }
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }

    private Path write(String file, Object pem) throws Exception {
        Path p = dir.resolve(file);
        try (Writer w = Files.newBufferedWriter(p); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(pem instanceof java.security.PrivateKey k
                    ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : pem);
        }
        return p;
    }
}
