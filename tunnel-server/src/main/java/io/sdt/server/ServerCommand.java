package io.sdt.server;

import io.sdt.codec.HostPort;
import io.sdt.core.SdtServer;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.policy.Policy;
import io.sdt.core.tunnel.SpecException;
import io.sdt.server.admin.AdminServer;
import io.sdt.server.admin.NodeView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sdt server}: accepts links; deny-by-default policy for targets and remote binds. */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Accept links from clients.")
final class ServerCommand implements Callable<Integer> {

    @Option(names = "--listen", required = true, paramLabel = "[HOST:]PORT",
            description = "Where to accept links (HOST defaults to 0.0.0.0).")
    String listen;

    @Option(names = "--allow-target", paramLabel = "RULE",
            description = "Targets clients may reach: HOSTS[:PORTS], e.g. 10.0.0.0/8:22, '*.internal', '*'. Repeatable; none = deny all.")
    List<String> allowTarget = new ArrayList<>();

    @Option(names = "--allow-bind", paramLabel = "RULE",
            description = "Addresses clients may listen on with -R: HOSTS[:PORTS]. Repeatable; none = deny all.")
    List<String> allowBind = new ArrayList<>();

    @Option(names = "--cert", paramLabel = "F", description = "PEM certificate chain (default: a fresh self-signed one).")
    Path cert;

    @Option(names = "--key", paramLabel = "F", description = "PEM private key of --cert.")
    Path key;

    @Option(names = "--client-ca", paramLabel = "F", description = "Require client certificates issued by this CA (mTLS).")
    Path clientCa;

    @Mixin
    NodeOptions node;

    @Override
    public Integer call() throws Exception {
        SdtServer.Config config = config();
        HostPort adminAt = node.admin();
        SdtServer server = new SdtServer(config);
        AdminServer admin = adminAt == null ? null : new AdminServer(adminAt, config.transport(), NodeView.of(server));
        return Signals.runUntilTerminated(() -> {
            server.start();
            if (admin != null) {
                admin.start();
            }
            return server;
        }, () -> {
            if (admin != null) {
                admin.close();
            }
            server.close();
        }, null);
    }

    SdtServer.Config config() {
        node.admin(); // parsed here so a bad --admin exits 2 before anything starts
        if ((cert == null) != (key == null)) {
            throw new Main.UsageException("--cert and --key go together");
        }
        Policy targets;
        Policy binds;
        try {
            targets = Policy.parse("--allow-target", allowTarget);
            binds = Policy.parse("--allow-bind", allowBind);
        } catch (SpecException e) {
            throw new Main.UsageException(e.getMessage());
        }
        return new SdtServer.Config(Addresses.parse("--listen", listen, "0.0.0.0", false), node.token(), targets, binds,
                new TlsSetup.ServerOptions(cert, key, clientCa), node.transport(), node.settings(),
                Math.min(2, Runtime.getRuntime().availableProcessors()));
    }
}
