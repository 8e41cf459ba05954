package io.sdt.core.testing;

import io.sdt.core.link.TlsSetup;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A man in the middle for tests: terminates TLS with its own certificate (speaking ALPN sdt/1),
 * opens its own TLS connection to the real server, and relays the decrypted bytes both ways.
 */
public final class TlsRelay implements AutoCloseable {

    private final SSLServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicLong relayed = new AtomicLong();

    public TlsRelay(InetSocketAddress upstream) throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = kpg.generateKeyPair();
        X509Certificate cert = TlsSetup.selfSigned(keys, "mitm");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("mitm", keys.getPrivate(), new char[0], new X509Certificate[] {cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        SSLContext serverCtx = SSLContext.getInstance("TLSv1.3");
        serverCtx.init(kmf.getKeyManagers(), null, null);
        SSLContext clientCtx = TrustAll.tls13();

        server = (SSLServerSocket) serverCtx.getServerSocketFactory().createServerSocket();
        SSLParameters sp = server.getSSLParameters();
        sp.setApplicationProtocols(new String[] {TlsSetup.ALPN});
        server.setSSLParameters(sp);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    SSLSocket down = (SSLSocket) server.accept();
                    threads.execute(() -> relay(down, clientCtx, upstream));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void relay(SSLSocket down, SSLContext clientCtx, InetSocketAddress upstream) {
        try (down; SSLSocket up = (SSLSocket) clientCtx.getSocketFactory().createSocket()) {
            SSLParameters p = up.getSSLParameters();
            p.setApplicationProtocols(new String[] {TlsSetup.ALPN});
            up.setSSLParameters(p);
            up.connect(upstream, 5000);
            up.startHandshake();
            down.startHandshake();
            var other = threads.submit(() -> pump(up.getInputStream(), down.getOutputStream()));
            pump(down.getInputStream(), up.getOutputStream());
            other.cancel(true);
        } catch (IOException e) {
            // one side went away; the test asserts on the nodes
        }
    }

    private Void pump(InputStream in, OutputStream out) {
        byte[] buf = new byte[16 * 1024];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                out.flush();
                relayed.addAndGet(n);
            }
        } catch (IOException ignored) {
            // closed
        }
        return null;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Plaintext bytes the relay has passed along (proof that it really sat in the middle). */
    public long relayedBytes() {
        return relayed.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
