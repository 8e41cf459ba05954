package io.sdt.core.link;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;

import javax.net.ssl.SSLEngine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class TlsSetupTest {

    /** The key pair made ahead at start-up goes to one server only; the next one gets a fresh pair. */
    @Test
    void aPreparedKeyPairIsUsedOnce() throws Exception {
        TlsSetup.prepareKeyPair();
        KeyPair first = TlsSetup.newKeyPair();
        KeyPair second = TlsSetup.newKeyPair();
        assertNotEquals(first.getPublic(), second.getPublic());
        assertEquals("secp256r1", ((ECPublicKey) first.getPublic()).getParams().toString().split(" ")[0]);

        TlsSetup.prepareKeyPair();
        TlsSetup.ServerTls a = TlsSetup.server(TlsSetup.ServerOptions.SELF_SIGNED);
        TlsSetup.ServerTls b = TlsSetup.server(TlsSetup.ServerOptions.SELF_SIGNED);
        assertNotEquals(leaf(a).getPublicKey(), leaf(b).getPublicKey());
        assertNotEquals(first.getPublic(), leaf(a).getPublicKey());
    }

    /** Without --client-ca a server asks for no client certificate (and so trusts no issuer for one). */
    @Test
    void aServerWithoutClientCaAsksForNoCertificate() throws Exception {
        TlsSetup.ServerTls tls = TlsSetup.server(TlsSetup.ServerOptions.SELF_SIGNED);
        SSLEngine engine = tls.context().newEngine(ByteBufAllocator.DEFAULT);
        try {
            assertFalse(engine.getNeedClientAuth());
            assertFalse(engine.getWantClientAuth());
            assertFalse(java.util.List.of(engine.getEnabledProtocols()).contains("TLSv1.2"));
        } finally {
            io.netty.util.ReferenceCountUtil.release(engine);
        }
    }

    /**
     * Both sides name early data's protocol first and version 1 second: a client of this version still reaches
     * a server that knows only sdt/1, and such a server's clients still reach this one (EarlyDataIT).
     */
    @Test
    void bothSidesOfferEarlyDataFirstAndTheFirstVersionSecond() throws Exception {
        java.util.List<String> order = java.util.List.of(TlsSetup.ALPN_EARLY, TlsSetup.ALPN);
        assertEquals(order, TlsSetup.client(TlsSetup.ClientOptions.DEFAULT).applicationProtocolNegotiator().protocols());
        assertEquals(order, TlsSetup.server(TlsSetup.ServerOptions.SELF_SIGNED).context()
                .applicationProtocolNegotiator().protocols());
    }

    private static X509Certificate leaf(TlsSetup.ServerTls tls) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(tls.leafCertificate()));
    }
}
