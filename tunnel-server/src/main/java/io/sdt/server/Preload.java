package io.sdt.server;

import io.netty.util.NetUtil;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.transport.Transport;
import org.apache.logging.log4j.LogManager;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Start-up work of a node that does not depend on its flags, begun on spare threads as {@code main} starts,
 * while the command line is read and the configuration checked: on one, Log4j2's configuration and then
 * BoringSSL, Netty's static set-up and the transport probes; on another (a server without {@code --cert}) the
 * key pair of its self-signed certificate, which needs only the JDK. On two cores this took 0.05-0.2 s off the
 * time to listening in interleaved A/B runs (benchmarks/README.md, section 9); on one core it only reorders the
 * work. Whatever fails here is done again, and reported, where it is needed; a command that only prints (help,
 * version, a configuration) preloads nothing.
 * <p>
 * Log4j2 must be configured by one thread before any other touches it: a logger asked for while another thread
 * was still configuring it could stay on Log4j2's default configuration for good, and then the node said
 * nothing at all (a client started, in 3 to 5 of 40 launches, with an empty log and no link). So Netty, which
 * logs through Log4j2, is set up on the logging thread after it, the key thread touches neither, and the node
 * calls {@link #awaitLogging} before its own first logger.
 */
final class Preload {

    private static final Set<String> NODES = Set.of("server", "client", "run", "demo");
    private static final Set<String> SERVERS = Set.of("server", "demo");
    private static final List<String> PRINT_ONLY = List.of("-h", "--help", "-V", "--version", "--print-config",
            "--check");

    /** Completed when the preload has configured Log4j2; already complete when nothing was preloaded. */
    private static volatile CompletableFuture<Void> logging = CompletableFuture.completedFuture(null);

    private Preload() {
    }

    static void start(String[] args) {
        if (!preloads(args)) {
            return;
        }
        CompletableFuture<Void> configured = new CompletableFuture<>();
        logging = configured;
        Thread.ofPlatform().daemon().name("sdt-preload-log").start(() -> {
            try {
                LogManager.getContext(false);
            } finally {
                configured.complete(null);
            }
            TlsSetup.loadLibrary();
            NetUtil.isValidIpV4Address("127.0.0.1");
            Transport.select("auto");
        });
        if (makesKeyPair(args)) {
            Thread.ofPlatform().daemon().name("sdt-preload-key").start(TlsSetup::prepareKeyPair);
        }
    }

    /** Returns once no other thread is configuring Log4j2 any more (at once when nothing was preloaded). */
    static void awaitLogging() {
        logging.join();
    }

    /** A node will run: the first word names one, and no option asks only to print something. */
    static boolean preloads(String[] args) {
        return args.length > 0 && NODES.contains(args[0]) && Arrays.stream(args).noneMatch(PRINT_ONLY::contains);
    }

    /** The node is a server that will make a self-signed certificate (no {@code --cert}). */
    static boolean makesKeyPair(String[] args) {
        return preloads(args) && SERVERS.contains(args[0])
                && Arrays.stream(args).noneMatch(a -> a.equals("--cert") || a.startsWith("--cert="));
    }
}
