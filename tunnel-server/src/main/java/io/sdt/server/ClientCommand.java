package io.sdt.server;

import io.sdt.core.SdtClient;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.tunnel.SpecException;
import io.sdt.core.tunnel.TunnelSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sdt client}: dials a server and runs -L and -R forwards over the link. */
@Command(name = "client", mixinStandardHelpOptions = true, description = "Dial a server and forward ports over the link.")
final class ClientCommand implements Callable<Integer> {

    @Option(names = "--server", required = true, paramLabel = "HOST:PORT", description = "The server's link address.")
    String server;

    @Option(names = "-L", paramLabel = "SPEC",
            description = "Local forward: [BIND_ADDR:]PORT:HOST:HOSTPORT[/tcp|/udp][,idle=D][,max=N][,peer=IP:PORT][,push]. Listens here, connects from the server.")
    List<String> local = new ArrayList<>();

    @Option(names = "-R", paramLabel = "SPEC",
            description = "Remote forward: [BIND_ADDR:]PORT:HOST:HOSTPORT[/tcp|/udp][,idle=D][,max=N][,peer=IP:PORT][,push]. Listens on the server, connects from here.")
    List<String> remote = new ArrayList<>();

    @Option(names = "-D", paramLabel = "[BIND:]PORT", description = "Dynamic SOCKS5/HTTP CONNECT forward (not supported yet).")
    List<String> dynamic = new ArrayList<>();

    @Option(names = "--ca", paramLabel = "F", description = "Validate the server certificate against this CA (and its host name).")
    Path ca;

    @Option(names = "--cert", paramLabel = "F", description = "Client certificate for servers that require mTLS.")
    Path cert;

    @Option(names = "--key", paramLabel = "F", description = "PEM private key of --cert.")
    Path key;

    @Mixin
    NodeOptions node;

    @Override
    public Integer call() throws Exception {
        SdtClient client = new SdtClient(config());
        return Signals.runUntilTerminated(client::start, client::close, client.fatalFailure());
    }

    SdtClient.Config config() {
        node.rejectUnsupported();
        if (!dynamic.isEmpty()) {
            throw new Main.UsageException("-D " + dynamic.getFirst() + ": dynamic (SOCKS5/HTTP CONNECT) forwarding is not supported yet");
        }
        if ((cert == null) != (key == null)) {
            throw new Main.UsageException("--cert and --key go together");
        }
        List<TunnelSpec> specs = new ArrayList<>();
        try {
            for (String s : local) {
                specs.add(TunnelSpec.parse(TunnelSpec.Direction.LOCAL, s));
            }
            for (String s : remote) {
                specs.add(TunnelSpec.parse(TunnelSpec.Direction.REMOTE, s));
            }
        } catch (SpecException e) {
            throw new Main.UsageException(e.getMessage());
        }
        return new SdtClient.Config(Addresses.parse("--server", server, null, true), node.token(), specs,
                new TlsSetup.ClientOptions(ca, cert, key), node.transport(), node.settings(), Duration.ofMillis(200),
                Duration.ofSeconds(10), 1);
    }
}
