package io.sdt.server;

import io.sdt.codec.HostPort;
import io.sdt.core.tunnel.SpecException;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.TunnelSpecParser;
import io.sdt.server.config.ConfigException;
import io.sdt.server.config.NodeConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.sdt.server.QuickLine.once;
import static io.sdt.server.QuickLine.path;

/** Flags that {@code sdt server} and {@code sdt client} share: shorthand for keys of the configuration file. */
final class NodeOptions {

    @Option(names = "--token-file", paramLabel = "F",
            description = "File holding the shared token (surrounding whitespace ignored). Default: env SDT_TOKEN.")
    Path tokenFile;

    @Option(names = "--transport", paramLabel = "auto|io_uring|epoll|nio", defaultValue = "auto",
            description = "I/O transport (default: ${DEFAULT-VALUE}: epoll, else io_uring, else nio).")
    String transport;

    @Option(names = "--window", paramLabel = "BYTES",
            description = "Per-channel receive window when a channel opens, e.g. 256k (default 256 KiB); it grows where that pays, up to --window-max.")
    String window;

    @Option(names = "--window-max", paramLabel = "BYTES",
            description = "Largest a channel's receive window may grow, e.g. 32m (default 32 MiB: 1 Gbit/s at 250 ms); equal to --window: fixed windows.")
    String windowMax;

    @Option(names = "--buffer-budget", paramLabel = "BYTES",
            description = "Most bytes the receive windows of all channels may add up to (default 1g); windows grow only within it.")
    String bufferBudget;

    @Option(names = "--admin", paramLabel = "[HOST:]PORT", description = "Admin HTTP endpoint: the dashboard at /, GET /metrics (Prometheus), /healthz, /tunnels, /links, /events. HOST defaults to 127.0.0.1; port 0 picks one.")
    String admin;

    @Option(names = "--admin-token-file", paramLabel = "F",
            description = "The admin endpoint asks for the token in F (Authorization: Bearer TOKEN, or as the password of HTTP Basic) on every path but /healthz.")
    Path adminTokenFile;

    @Option(names = "--drain-timeout", paramLabel = "DURATION",
            description = "On SIGTERM, how long open channels may run on before they are closed (default 30s).")
    String drainTimeout;

    @Option(names = "--audit-file", paramLabel = "F",
            description = "Write the audit trail (one event per channel open) to F instead of stderr; rolls over at 64 MiB, keeping F.1 to F.5.")
    Path auditFile;

    @Option(names = "--print-config", description = "Print the configuration file (YAML for 'sdt run') this command line means, and exit.")
    boolean printConfig;

    /** The shared flags of {@link QuickLine.Command#take}; not --print-config, which picocli reads. */
    QuickLine.Taken take(String flag, String value) {
        return switch (flag) {
            case "--token-file" -> once(tokenFile = path(value));
            case "--transport" -> once(transport = value);
            case "--window" -> once(window = value);
            case "--window-max" -> once(windowMax = value);
            case "--buffer-budget" -> once(bufferBudget = value);
            case "--admin" -> once(admin = value);
            case "--admin-token-file" -> once(adminTokenFile = path(value));
            case "--drain-timeout" -> once(drainTimeout = value);
            case "--audit-file" -> once(auditFile = path(value));
            default -> null;
        };
    }

    /** With --print-config prints {@code config} as YAML and returns 0; otherwise runs the node until it is stopped. */
    int printOrRun(picocli.CommandLine cl, io.sdt.server.config.NodeConfig config) throws Exception {
        if (printConfig) {
            cl.getOut().print(io.sdt.server.config.ConfigWriter.write(config));
            cl.getOut().flush();
            return 0;
        }
        return NodeProcess.fromFlags(config);
    }

    /** The --admin address, or {@code null} without the flag. */
    HostPort admin() {
        return admin == null ? null : Addresses.parse("--admin", admin, "127.0.0.1", false);
    }

    Duration drainTimeout() {
        if (drainTimeout == null) {
            return null;
        }
        try {
            return TunnelSpecParser.parseDuration("--drain-timeout " + drainTimeout + ": ", drainTimeout);
        } catch (SpecException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /**
     * The {@code vpn} section the VPN flags mean: {@code null} without {@code --vpn}. The route and device
     * flags alone, without {@code --vpn}, are refused when the configuration is checked.
     */
    static NodeConfig.Vpn vpn(boolean on, List<String> networks, List<String> routes, String device) {
        if (!on) {
            if (!routes.isEmpty() || device != null) {
                throw new ConfigException((routes.isEmpty() ? "--vpn-dev" : "--vpn-route") + ": needs --vpn");
            }
            return null;
        }
        return new NodeConfig.Vpn(networks, routes, device, null);
    }
}
