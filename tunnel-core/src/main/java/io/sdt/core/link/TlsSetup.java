package io.sdt.core.link;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Builds the TLS 1.3 contexts of a link on BoringSSL (netty-tcnative) with ALPN {@value #ALPN}.
 *
 * <p>Without a certificate the server makes a fresh self-signed EC P-256 certificate at start-up.
 * Clients then skip chain validation: the link's token proofs are bound to the server's certificate
 * (RFC 5929 tls-server-end-point), so a man in the middle with another certificate cannot
 * authenticate. With {@code --ca} the client validates the chain and the host name as well; with
 * {@code --client-ca} the server requires client certificates (mutual TLS).
 */
public final class TlsSetup {

    public static final String ALPN = "sdt/1";

    private TlsSetup() {
    }

    /** Server TLS material: the context and the DER bytes of its leaf certificate (for the binding). */
    public record ServerTls(SslContext context, byte[] leafCertificate) {
    }

    /** Server options: all {@code null} means a self-signed certificate and no client certificates. */
    public record ServerOptions(Path certFile, Path keyFile, Path clientCaFile) {
        public static final ServerOptions SELF_SIGNED = new ServerOptions(null, null, null);
    }

    /**
     * Client options: all {@code null} means no chain validation and no client certificate.
     * {@code webSocketCaFile}: the CAs a {@code wss://} endpoint's certificate is checked against (its
     * host name too); {@code null}: the system's.
     */
    public record ClientOptions(Path caFile, Path certFile, Path keyFile, Path webSocketCaFile) {
        public static final ClientOptions DEFAULT = new ClientOptions(null, null, null);

        public ClientOptions(Path caFile, Path certFile, Path keyFile) {
            this(caFile, certFile, keyFile, null);
        }
    }

    /**
     * The outer TLS of a {@code wss://} link: checked like a browser checks a web site (chain and host name,
     * against {@code caFile} or the JDK's CAs), HTTP/1.1 for the upgrade.
     */
    public static SslContext webSocketClient(Path caFile) throws IOException {
        SslContextBuilder b = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
        try {
            if (caFile != null) {
                b.trustManager(caFile.toFile());
            }
        } catch (IllegalArgumentException e) {
            throw badKeyMaterial("--ws-ca " + caFile, e);
        }
        return b.build();
    }

    public static ServerTls server(ServerOptions options) throws GeneralSecurityException, IOException {
        SslContextBuilder b;
        byte[] leaf;
        if (options.certFile() == null) {
            KeyPair keys = newKeyPair();
            X509Certificate cert = selfSigned(keys, "sdt");
            b = SslContextBuilder.forServer(keys.getPrivate(), cert);
            leaf = cert.getEncoded();
        } else {
            try {
                b = SslContextBuilder.forServer(options.certFile().toFile(), options.keyFile().toFile());
            } catch (IllegalArgumentException e) {
                throw badKeyMaterial("--cert " + options.certFile() + " / --key " + options.keyFile(), e);
            }
            leaf = firstCertificate(options.certFile()).getEncoded();
        }
        if (options.clientCaFile() != null) {
            try {
                b.trustManager(options.clientCaFile().toFile()).clientAuth(ClientAuth.REQUIRE);
            } catch (IllegalArgumentException e) {
                throw badKeyMaterial("--client-ca " + options.clientCaFile(), e);
            }
        }
        SslContext ctx = b.sslProvider(SslProvider.OPENSSL).protocols("TLSv1.3").applicationProtocolConfig(alpn()).build();
        return new ServerTls(ctx, leaf);
    }

    public static SslContext client(ClientOptions options) throws IOException {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).protocols("TLSv1.3")
                .applicationProtocolConfig(alpn());
        try {
            if (options.caFile() != null) {
                b.trustManager(options.caFile().toFile()).endpointIdentificationAlgorithm("HTTPS");
            } else {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            }
        } catch (IllegalArgumentException e) {
            throw badKeyMaterial("--ca " + options.caFile(), e);
        }
        if (options.certFile() != null) {
            try {
                b.keyManager(options.certFile().toFile(), options.keyFile().toFile());
            } catch (IllegalArgumentException e) {
                throw badKeyMaterial("--cert " + options.certFile() + " / --key " + options.keyFile(), e);
            }
        }
        return b.build();
    }

    private static IllegalArgumentException badKeyMaterial(String what, IllegalArgumentException cause) {
        return new IllegalArgumentException(what + ": " + cause.getMessage() + " (expected PEM certificates and an"
                + " unencrypted PKCS#8 key; convert with 'openssl pkcs8 -topk8 -nocrypt -in key.pem')", cause);
    }

    static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        return kpg.generateKeyPair();
    }

    /** A self-signed certificate for an EC key, valid from an hour ago for ten years. */
    public static X509Certificate selfSigned(KeyPair keys, String commonName) throws GeneralSecurityException {
        Instant now = Instant.now();
        return EphemeralCertificate.create(keys, commonName, now.minus(Duration.ofHours(1)),
                now.plus(Duration.ofDays(3650)));
    }

    private static X509Certificate firstCertificate(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static ApplicationProtocolConfig alpn() {
        return new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, List.of(ALPN));
    }
}
