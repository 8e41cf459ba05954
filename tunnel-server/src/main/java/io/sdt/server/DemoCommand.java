package io.sdt.server;

import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.link.Token;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.sdt.server.config.NodeConfig;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code sdt demo}: an embedded end-to-end run on loopback. Starts a server node, a client node with
 * one local and one remote TCP forward to a built-in echo target, pushes random bytes through each
 * and checks the echo by SHA-256, then prints what it did and the equivalent command lines.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run an embedded end-to-end tunnel on loopback, verify it, and exit.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--size", paramLabel = "MiB", defaultValue = "16", description = "MiB sent through each forward (default ${DEFAULT-VALUE}).")
    int sizeMiB;

    @Option(names = "--transport", paramLabel = "auto|io_uring|epoll|nio", defaultValue = "auto")
    String transport;

    @Override
    public Integer call() throws Exception {
        if (sizeMiB < 1 || sizeMiB > 4096) {
            throw new Main.UsageException("--size " + sizeMiB + ": expected 1..4096");
        }
        if (System.getenv("SDT_LOG_LEVEL") == null) {
            Configurator.setRootLevel(Level.WARN); // in a JVM that configured Log4j2 before (tests); see quiet()
        }
        Transport t;
        try {
            t = Transport.select(transport);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--transport: " + e.getMessage());
        }
        Path tokenFile = Files.createTempFile("sdt-demo-", ".token",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (EchoTarget target = new EchoTarget()) {
            Files.writeString(tokenFile, Token.generate() + "\n");
            return run(t, tokenFile, target);
        } finally {
            Files.deleteIfExists(tokenFile);
        }
    }

    /**
     * The demo logs warnings and the audit trail only, unless SDT_LOG_LEVEL says otherwise: log4j2.properties
     * reads the level from this property, so set before Log4j2 is configured (Main, before the preload starts
     * it), the level holds from the first line; set after, it does not (setting the root level while the
     * preload is still configuring Log4j2 is overwritten by that configuration).
     */
    static void quiet() {
        if (System.getenv("SDT_LOG_LEVEL") == null) {
            System.setProperty("sdt.log.level", "warn");
        }
    }

    /**
     * Runs the server and client command lines the demo prints, read and set up as {@code sdt server} and
     * {@code sdt client} read and set up theirs (QuickLine, NodeSetup), in this one process.
     */
    private int run(Transport t, Path tokenFile, EchoTarget target) throws Exception {
        String token = tokenFile.toString();
        NodeConfig serverConfig = nodeConfig("server", "--listen", "127.0.0.1:0", "--token-file", token,
                "--transport", t.id(), "--allow-target", "127.0.0.1:" + target.port(), "--allow-bind", "127.0.0.1:*");
        try (SdtServer server = new SdtServer(NodeSetup.server(serverConfig, NodeSetup.FLAGS)).start()) {
            int serverPort = server.address().getPort();
            String l = "127.0.0.1:0:127.0.0.1:" + target.port();
            String r = "127.0.0.1:0:127.0.0.1:" + target.port();
            NodeConfig clientConfig = nodeConfig("client", "--server", "127.0.0.1:" + serverPort, "--token-file", token,
                    "--transport", t.id(), "-L", l, "-R", r);
            try (SdtClient client = new SdtClient(NodeSetup.client(clientConfig, NodeSetup.FLAGS)).start()) {
                if (!client.awaitUp(Duration.ofSeconds(10))) {
                    System.err.println("sdt demo: error: the link did not come up within 10 s");
                    return Main.EXIT_FAILURE;
                }
                Tunnel local = client.tunnels().get(0);
                Tunnel remote = client.tunnels().get(1);
                InetSocketAddress remoteAddr = remote.awaitBound(Duration.ofSeconds(10));
                if (remoteAddr == null) {
                    System.err.println("sdt demo: error: the remote forward was not bound: " + remote.lastError());
                    return Main.EXIT_FAILURE;
                }
                System.out.printf("sdt demo: transport %s, TLS 1.3 link on 127.0.0.1:%d, echo target on 127.0.0.1:%d%n",
                        t.id(), serverPort, target.port());
                boolean ok = run("-L " + l, local.boundAddress(), "client", "server")
                        & run("-R " + r, remoteAddr, "server", "client");
                System.out.println();
                System.out.println("The same with two processes:");
                System.out.println("  sdt token > token.txt");
                System.out.printf("  sdt server --listen 127.0.0.1:%d --token-file token.txt --allow-target 127.0.0.1:%d"
                        + " --allow-bind '127.0.0.1:*'%n", serverPort, target.port());
                System.out.printf("  sdt client --server 127.0.0.1:%d --token-file token.txt -L %s -R %s%n", serverPort, l, r);
                System.out.println(ok ? "sdt demo: OK" : "sdt demo: FAILED");
                return ok ? 0 : Main.EXIT_FAILURE;
            }
        }
    }

    /** The configuration a command line of the demo means, read as the node commands read theirs. */
    private static NodeConfig nodeConfig(String... args) {
        QuickLine.Line read = QuickLine.read(args);
        if (read == null) {
            throw new IllegalStateException("its own command line needs picocli: " + String.join(" ", args));
        }
        return read.flags().nodeConfig();
    }

    /** Sends sizeMiB of random bytes through {@code address}, reads the echo, compares SHA-256. */
    private boolean run(String what, InetSocketAddress address, String listenNode, String exitNode) throws Exception {
        long size = (long) sizeMiB << 20;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        MessageDigest echoed = MessageDigest.getInstance("SHA-256");
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.connect(address, 5000);
            s.setSoTimeout(30_000);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    Random random = new Random(size);
                    byte[] buf = new byte[64 * 1024];
                    for (long left = size; left > 0; left -= buf.length) {
                        random.nextBytes(buf);
                        int n = (int) Math.min(buf.length, left);
                        sent.update(buf, 0, n);
                        out.write(buf, 0, n);
                    }
                    s.shutdownOutput();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, Thread::startVirtualThread);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long got = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                echoed.update(buf, 0, n);
                got += n;
            }
            writer.get(30, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            byte[] a = sent.digest();
            byte[] b = echoed.digest();
            boolean ok = got == size && MessageDigest.isEqual(a, b);
            System.out.printf("  %-40s listener on the %s node at %s, exit at the %s node:%n", what, listenNode,
                    HostPort.of(address), exitNode);
            System.out.printf("    %d MiB there and back in %.2f s (%.0f MiB/s each way), sha256 %s %s%n", sizeMiB,
                    seconds, sizeMiB / seconds, HexFormat.of().formatHex(a, 0, 8), ok ? "matches" : "MISMATCH (got "
                            + got + " bytes)");
            return ok;
        }
    }
}
