package io.sdt.server;

import io.sdt.core.ServerConfig;
import io.sdt.core.SdtServer;
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

/** {@code sdt server}: accepts links; deny-by-default policy for targets and remote binds. */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Accept links from clients.")
final class ServerCommand implements Callable<Integer>, QuickLine.Command {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listen", required = true, paramLabel = "[HOST:]PORT",
            description = "Where to accept links (HOST defaults to 0.0.0.0).")
    String listen;

    @Option(names = "--allow-target", paramLabel = "RULE",
            description = "Targets clients may reach: HOSTS[:PORTS], e.g. 10.0.0.0/8:22, '*.internal', '*'. Repeatable; none = deny all.")
    List<String> allowTarget = new ArrayList<>();

    @Option(names = "--ws-path", paramLabel = "/PATH",
            description = "The link port also takes WebSocket upgrades at this path (clients: --server ws://HOST:PORT/PATH, or wss:// through a TLS-terminating reverse proxy).")
    String wsPath;

    @Option(names = "--accept-proxy-protocol", paramLabel = "CIDR",
            description = "Load balancers in these networks put a PROXY protocol (v1/v2) header first, naming the "
                    + "real client; their connections must, and nobody else's may. Repeatable.")
    List<String> acceptProxyProtocol = new ArrayList<>();

    @Option(names = "--allow-bind", paramLabel = "RULE",
            description = "Addresses clients may listen on with -R: HOSTS[:PORTS]. Repeatable; none = deny all.")
    List<String> allowBind = new ArrayList<>();

    @Option(names = "--cert", paramLabel = "F", description = "PEM certificate chain (default: a fresh self-signed one).")
    Path cert;

    @Option(names = "--key", paramLabel = "F", description = "PEM private key of --cert.")
    Path key;

    @Option(names = "--client-ca", paramLabel = "F", description = "Require client certificates issued by this CA (mTLS).")
    Path clientCa;

    @Option(names = "--vpn", paramLabel = "CIDR",
            description = "Run the L3 VPN: a TUN device with the first address of CIDR; clients get addresses from it. "
                    + "One IPv4 and/or one IPv6 network (repeat the flag). Needs CAP_NET_ADMIN.")
    List<String> vpn = new ArrayList<>();

    @Option(names = "--vpn-route", paramLabel = "CIDR",
            description = "A network VPN clients may reach through this server (pushed to them as a route). "
                    + "Repeatable; none = clients reach only this server's VPN address.")
    List<String> vpnRoute = new ArrayList<>();

    @Option(names = "--vpn-dev", paramLabel = "NAME", description = "The VPN's TUN device (default sdt0).")
    String vpnDev;

    @Mixin
    NodeOptions node = new NodeOptions();

    @Override
    public Integer call() throws Exception {
        return node.printOrRun(spec.commandLine(), nodeConfig());
    }

    @Override
    public QuickLine.Taken take(String flag, String value) {
        return switch (flag) {
            case "--listen" -> once(listen = value);
            case "--allow-target" -> repeat(allowTarget, value);
            case "--ws-path" -> once(wsPath = value);
            case "--accept-proxy-protocol" -> repeat(acceptProxyProtocol, value);
            case "--allow-bind" -> repeat(allowBind, value);
            case "--cert" -> once(cert = path(value));
            case "--key" -> once(key = path(value));
            case "--client-ca" -> once(clientCa = path(value));
            case "--vpn" -> repeat(vpn, value);
            case "--vpn-route" -> repeat(vpnRoute, value);
            case "--vpn-dev" -> once(vpnDev = value);
            default -> node.take(flag, value);
        };
    }

    @Override
    public boolean complete() {
        return listen != null;
    }

    /** The configuration this command line means (flags are shorthand for its keys). */
    @Override
    public NodeConfig nodeConfig() {
        return new NodeConfig(NodeConfig.Role.SERVER, listen, null, node.tokenFile, null, node.transport, node.window,
                new NodeConfig.Tls(null, cert, key, clientCa), allowTarget, allowBind, null, null, List.of(), node.admin,
                NodeConfig.Logging.auditTo(node.auditFile), node.drainTimeout(), null, node.windowMax, node.bufferBudget,
                NodeOptions.vpn(!vpn.isEmpty(), vpn, vpnRoute, vpnDev), null, acceptProxyProtocol, wsPath, null,
                node.adminTokenFile);
    }

    /** The server's settings, every problem reported against its flag. */
    ServerConfig config() {
        return NodeSetup.server(nodeConfig(), NodeSetup.FLAGS);
    }
}
