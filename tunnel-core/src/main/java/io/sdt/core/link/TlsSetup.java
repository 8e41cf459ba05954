package io.sdt.core.link;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
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
import java.security.KeyStore;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the TLS 1.3 contexts of a link on BoringSSL (netty-tcnative) with ALPN {@value #ALPN_EARLY} or
 * {@value #ALPN}: both sides offer both, the server picks the first it has, so two nodes of this version speak
 * {@value #ALPN_EARLY} (version 1 with early data) and a node that knows only {@value #ALPN} is still served.
 *
 * <p>Without a certificate the server makes a fresh self-signed EC P-256 certificate at start-up.
 * Clients then skip chain validation: the link's token proofs are bound to the server's certificate
 * (RFC 5929 tls-server-end-point), so a man in the middle with another certificate cannot
 * authenticate. With {@code --ca} the client validates the chain and the host name as well; with
 * {@code --client-ca} the server requires client certificates (mutual TLS).
 */
public final class TlsSetup {

    /** Protocol version 1. */
    public static final String ALPN = "sdt/1";
    /** Version 1 with early data: an OPEN may carry the customer's first bytes (PROTOCOL.md section 8). */
    public static final String ALPN_EARLY = "sdt/1.1";

    /**
     * Netty hands our key to BoringSSL through a key store that lives only in memory. The JDK's default type,
     * PKCS12, protects the key with 10,000 rounds of PBKDF2 on the way in and again on the way out, which
     * cost ~120 ms of a cold start; JKS's protection is a few SHA-1 rounds. Nothing is ever written out.
     */
    private static final String IN_MEMORY_KEY_STORE = "JKS";

    /** A key pair {@link #prepare} makes; used once. */
    private static final AtomicReference<CompletableFuture<KeyPair>> SPARE_KEY_PAIR = new AtomicReference<>();

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
        } else {
            // No client certificates are asked for, so nobody is trusted as a client; without this Netty would
            // load the JDK's ~150 CA certificates and hand their names to BoringSSL (~25 ms of start-up)
            b.trustManager(trustNobody());
        }
        SslContext ctx = b.sslProvider(SslProvider.OPENSSL).protocols("TLSv1.3").applicationProtocolConfig(alpn())
                .keyStoreType(IN_MEMORY_KEY_STORE).build();
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
        return b.keyStoreType(IN_MEMORY_KEY_STORE).build();
    }

    private static IllegalArgumentException badKeyMaterial(String what, IllegalArgumentException cause) {
        return new IllegalArgumentException(what + ": " + cause.getMessage() + " (expected PEM certificates and an"
                + " unencrypted PKCS#8 key; convert with 'openssl pkcs8 -topk8 -nocrypt -in key.pem')", cause);
    }

    /**
     * Makes, on the calling thread, the key pair of a self-signed certificate, which the next server context
     * built without a certificate then takes: the slow, flag-independent part of a server's TLS set-up that
     * needs only the JDK (no Netty, no logging), so a node can begin it on a spare thread as it starts. A
     * failure here is left for the real set-up to meet and report.
     */
    public static void prepareKeyPair() {
        CompletableFuture<KeyPair> spare = new CompletableFuture<>();
        if (SPARE_KEY_PAIR.compareAndSet(null, spare)) {
            try {
                spare.complete(generateKeyPair());
            } catch (GeneralSecurityException | RuntimeException e) {
                spare.completeExceptionally(e); // newKeyPair() makes one itself, and reports what goes wrong
            }
        }
    }

    /** Loads BoringSSL (netty-tcnative) on the calling thread; a failure is reported where TLS is set up. */
    public static void loadLibrary() {
        OpenSsl.isAvailable();
    }

    static KeyPair newKeyPair() throws GeneralSecurityException {
        CompletableFuture<KeyPair> spare = SPARE_KEY_PAIR.getAndSet(null);
        if (spare != null) {
            try {
                return spare.join(); // being made: the wait is shorter than starting over
            } catch (CompletionException e) {
                // made below, where a failure is reported
            }
        }
        return generateKeyPair();
    }

    private static KeyPair generateKeyPair() throws GeneralSecurityException {
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

    private static TrustManagerFactory trustNobody() throws GeneralSecurityException, IOException {
        KeyStore empty = KeyStore.getInstance(IN_MEMORY_KEY_STORE);
        empty.load(null, null);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(empty);
        return tmf;
    }

    /** Whether {@code alpn}, as the handshake chose it, is one of ours. */
    static boolean speaksSdt(String alpn) {
        return ALPN.equals(alpn) || ALPN_EARLY.equals(alpn);
    }

    private static ApplicationProtocolConfig alpn() {
        return new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, List.of(ALPN_EARLY, ALPN));
    }
}
