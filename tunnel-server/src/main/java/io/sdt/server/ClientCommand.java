package io.sdt.server;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.codec.HostPort;
import io.sdt.core.SdtClient;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.policy.Policy;
import io.sdt.core.tunnel.SpecException;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.router.ProxyAuth;
import io.sdt.server.admin.AdminServer;
import io.sdt.server.admin.NodeView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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

    @Option(names = "-D", paramLabel = "[BIND:]PORT[,max=N]",
            description = "Dynamic forward: a SOCKS5 (CONNECT, UDP ASSOCIATE) and HTTP CONNECT proxy here; traffic exits at the server, under its --allow-target.")
    List<String> dynamic = new ArrayList<>();

    @Option(names = "--allow-target", paramLabel = "RULE",
            description = "Targets that customers of a reverse dynamic -R PORT may reach from this client: HOSTS[:PORTS]. Repeatable; none = deny all.")
    List<String> allowTarget = new ArrayList<>();

    @Option(names = "--proxy-auth-file", paramLabel = "F",
            description = "USER:PASSWORD (one line) that -D customers must give (SOCKS5 RFC 1929, HTTP Proxy-Authorization: Basic).")
    Path proxyAuthFile;

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
        SdtClient.Config config = config();
        HostPort adminAt = node.admin();
        SdtClient client = new SdtClient(config);
        AdminServer admin = adminAt == null ? null : new AdminServer(adminAt, config.transport(), NodeView.of(client));
        return Signals.runUntilTerminated(() -> {
            client.start();
            if (admin != null) {
                admin.start();
            }
            return client;
        }, () -> {
            if (admin != null) {
                admin.close();
            }
            client.close();
        }, client.fatalFailure());
    }

    SdtClient.Config config() {
        node.admin(); // parsed here so a bad --admin exits 2 before anything starts
        if ((cert == null) != (key == null)) {
            throw new Main.UsageException("--cert and --key go together");
        }
        List<TunnelSpec> specs = new ArrayList<>();
        Policy exits;
        try {
            for (String s : local) {
                specs.add(TunnelSpec.parse(TunnelSpec.Direction.LOCAL, s));
            }
            for (String s : remote) {
                specs.add(TunnelSpec.parse(TunnelSpec.Direction.REMOTE, s));
            }
            for (String s : dynamic) {
                specs.add(TunnelSpec.parseDynamic(s));
            }
            exits = Policy.parse("--allow-target", allowTarget);
        } catch (SpecException e) {
            throw new Main.UsageException(e.getMessage());
        }
        try {
            return new SdtClient.Config(Addresses.parse("--server", server, null, true), node.token(), specs,
                    new TlsSetup.ClientOptions(ca, cert, key), node.transport(), node.settings(), Duration.ofMillis(200),
                    Duration.ofSeconds(10), 1, Ticker.systemTicker(), exits, proxyAuth());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /** The credentials in --proxy-auth-file: one line USER:PASSWORD. */
    private ProxyAuth proxyAuth() {
        if (proxyAuthFile == null) {
            return null;
        }
        String where = "--proxy-auth-file " + proxyAuthFile + ": ";
        String text;
        try {
            text = Files.readString(proxyAuthFile, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            throw new Main.UsageException(where + "no such file");
        } catch (IOException e) {
            throw new Main.UsageException(where + "cannot read: " + e.getMessage());
        }
        int colon = text.indexOf(':');
        if (colon <= 0 || text.contains("\n")) {
            throw new Main.UsageException(where + "expected one line USER:PASSWORD");
        }
        try {
            return ProxyAuth.of(text.substring(0, colon), text.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(where + e.getMessage());
        }
    }
}
