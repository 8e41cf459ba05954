package io.sdt.server;

import io.netty.util.NetUtil;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.transport.Transport;
import org.apache.logging.log4j.LogManager;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Start-up work of a node that does not depend on its flags, begun on two spare threads as {@code main}
 * starts, while picocli reads the command line and the configuration is checked: Log4j2's configuration on
 * one; BoringSSL, the key pair of a server's self-signed certificate (not with {@code --cert}), Netty's static
 * set-up and the transport probes on the other. On two cores this took 0.05-0.2 s off the time to listening
 * in interleaved A/B runs (benchmarks/README.md, section 9); on one core it only reorders the work. Whatever
 * fails here is done again, and reported, where it is needed; a command that only prints (help, version, a
 * configuration) preloads nothing.
 */
final class Preload {

    private static final Set<String> NODES = Set.of("server", "client", "run", "demo");
    private static final Set<String> SERVERS = Set.of("server", "demo");
    private static final List<String> PRINT_ONLY = List.of("-h", "--help", "-V", "--version", "--print-config",
            "--check");

    private Preload() {
    }

    static void start(String[] args) {
        if (!preloads(args)) {
            return;
        }
        boolean keyPair = makesKeyPair(args);
        Thread.ofPlatform().daemon().name("sdt-preload-log").start(() -> LogManager.getContext(false));
        Thread.ofPlatform().daemon().name("sdt-preload-tls").start(() -> {
            TlsSetup.prepare(keyPair);
            NetUtil.isValidIpV4Address("127.0.0.1");
            Transport.select("auto");
        });
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
