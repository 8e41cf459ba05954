package io.sdt.server;

import io.sdt.core.ClientConfig;
import io.sdt.core.SdtClient;
import io.sdt.core.tunnel.SpecException;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import io.sdt.server.config.NodeConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static io.sdt.server.QuickLine.once;
import static io.sdt.server.QuickLine.path;
import static io.sdt.server.QuickLine.repeat;

/** {@code sdt client}: dials a server and runs -L and -R forwards over the link. */
@Command(name = "client", mixinStandardHelpOptions = true, description = "Dial a server and forward ports over the link.")
final class ClientCommand implements Callable<Integer>, QuickLine.Command {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--server", required = true, paramLabel = "HOST:PORT|URL",
            description = "The server's link address, or ws://HOST[:PORT]/PATH (its --ws-path) or wss://... (a TLS-terminating reverse proxy in front of it): the link through a WebSocket. Repeatable: a link to each server; new channels go to the link with the fewest, -R listens on every server.")
    List<String> servers = new ArrayList<>();

    @Option(names = "--links", paramLabel = "N",
            description = "Links to each server (default 1): new channels spread over them, so one client's traffic uses more than one core of the server.")
    Integer links;

    @Option(names = "-L", paramLabel = "SPEC",
            description = "Local forward: [BIND_ADDR:]PORT:HOST:HOSTPORT[/tcp|/udp][,idle=D][,max=N][,peer=IP:PORT][,push]. Listens here, connects from the server.")
    List<String> local = new ArrayList<>();

    @Option(names = "-R", paramLabel = "SPEC",
            description = "Remote forward: [BIND_ADDR:]PORT:HOST:HOSTPORT[/tcp|/udp][,idle=D][,max=N][,peer=IP:PORT][,push]. Listens on the server, connects from here. Without a target, [BIND_ADDR:]PORT[,max=N][,optimistic]: a SOCKS5 / HTTP CONNECT proxy on the server whose traffic exits here, under --allow-target.")
    List<String> remote = new ArrayList<>();

    @Option(names = "-D", paramLabel = "[BIND:]PORT[,max=N][,optimistic]",
            description = "Dynamic forward: a SOCKS5 (CONNECT, UDP ASSOCIATE) and HTTP CONNECT proxy here; traffic exits at the server, under its --allow-target. ,optimistic answers a CONNECT at once and sends the customer's first bytes with the channel's opening (a refused target then resets the customer).")
    List<String> dynamic = new ArrayList<>();

    @Option(names = "--allow-target", paramLabel = "RULE",
            description = "Targets that customers of a reverse dynamic -R PORT may reach from this client: HOSTS[:PORTS]. Repeatable; none = deny all.")
    List<String> allowTarget = new ArrayList<>();

    @Option(names = "--proxy-auth-file", paramLabel = "F",
            description = "USER:PASSWORD (one line) that -D customers must give (SOCKS5 RFC 1929, HTTP Proxy-Authorization: Basic).")
    Path proxyAuthFile;

    @Option(names = "--proxy", paramLabel = "URL",
            description = "Dial the server through this proxy: http://[USER:PASS@]HOST:PORT (CONNECT) or "
                    + "socks5://[USER:PASS@]HOST:PORT; 'none' for none. Default: HTTPS_PROXY / ALL_PROXY unless NO_PROXY names the server.")
    String proxy;

    @Option(names = "--ws-ca", paramLabel = "F",
            description = "CA bundle (PEM) for the certificate of a wss:// endpoint (default: the system's CAs).")
    Path wsCa;

    @Option(names = "--ca", paramLabel = "F", description = "Validate the server certificate against this CA (and its host name).")
    Path ca;

    @Option(names = "--cert", paramLabel = "F", description = "Client certificate for servers that require mTLS.")
    Path cert;

    @Option(names = "--key", paramLabel = "F", description = "PEM private key of --cert.")
    Path key;

    @Option(names = "--vpn", arity = "0..1", fallbackValue = "", paramLabel = "ADDR/PREFIX",
            description = "Join the server's L3 VPN through a TUN device; optionally ask for this address "
                    + "(default: the server chooses). Needs CAP_NET_ADMIN.")
    String vpn;

    @Option(names = "--vpn-route", paramLabel = "CIDR",
            description = "Route only these networks through the VPN (default: the routes the server offers). Repeatable.")
    List<String> vpnRoute = new ArrayList<>();

    @Option(names = "--vpn-dev", paramLabel = "NAME", description = "The VPN's TUN device (default sdt0).")
    String vpnDev;

    @Mixin
    NodeOptions node = new NodeOptions();

    @Override
    public Integer call() throws Exception {
        return node.printOrRun(spec.commandLine(), nodeConfig());
    }

    /** Every flag but {@code --vpn}, whose value is optional: picocli reads that one. */
    @Override
    public QuickLine.Taken take(String flag, String value) {
        return switch (flag) {
            case "--server" -> repeat(servers, value);
            case "--links" -> once(links = QuickLine.count(value));
            case "-L" -> repeat(local, value);
            case "-R" -> repeat(remote, value);
            case "-D" -> repeat(dynamic, value);
            case "--allow-target" -> repeat(allowTarget, value);
            case "--proxy-auth-file" -> once(proxyAuthFile = path(value));
            case "--proxy" -> once(proxy = value);
            case "--ws-ca" -> once(wsCa = path(value));
            case "--ca" -> once(ca = path(value));
            case "--cert" -> once(cert = path(value));
            case "--key" -> once(key = path(value));
            case "--vpn-route" -> repeat(vpnRoute, value);
            case "--vpn-dev" -> once(vpnDev = value);
            default -> node.take(flag, value);
        };
    }

    @Override
    public boolean complete() {
        return !servers.isEmpty();
    }

    /** The configuration this command line means (flags are shorthand for its keys). */
    @Override
    public NodeConfig nodeConfig() {
        List<TunnelSpec> specs = new ArrayList<>();
        try {
            for (String s : local) {
                specs.add(TunnelSpecParser.parse(TunnelSpec.Direction.LOCAL, s));
            }
            for (String s : remote) {
                specs.add(TunnelSpecParser.parse(TunnelSpec.Direction.REMOTE, s));
            }
            for (String s : dynamic) {
                specs.add(TunnelSpecParser.parseDynamic(s));
            }
        } catch (SpecException e) {
            throw new Main.UsageException(e.getMessage());
        }
        return new NodeConfig(NodeConfig.Role.CLIENT, null, servers, node.tokenFile, null, node.transport, node.window,
                new NodeConfig.Tls(ca, cert, key, null, wsCa), allowTarget, List.of(), proxyAuthFile, null, specs, node.admin,
                NodeConfig.Logging.auditTo(node.auditFile), node.drainTimeout(), null, node.windowMax, node.bufferBudget,
                NodeOptions.vpn(vpn != null, vpn == null || vpn.isEmpty() ? List.of() : List.of(vpn), vpnRoute, vpnDev),
                proxy, List.of(), null, links, node.adminTokenFile);
    }

    /** The client's settings, every problem reported against its flag. */
    ClientConfig config() {
        return NodeSetup.client(nodeConfig(), NodeSetup.FLAGS);
    }
}
