package io.sdt.server;

import io.sdt.server.config.ConfigReader;
import io.sdt.server.config.ConfigWriter;
import io.sdt.server.config.NodeConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code sdt run CONFIG.yaml}: a server or client from its configuration file (docs/CONFIG.md),
 * reloaded on SIGHUP and when the file changes, drained on SIGTERM.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a server or client from a YAML configuration file (docs/CONFIG.md). SIGHUP or a change "
                + "of the file reloads it; SIGTERM drains and exits.")
final class RunCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "CONFIG.yaml")
    Path file;

    @Option(names = "--check", description = "Validate the file (keys, values, files it names) and exit: 0 if it can run.")
    boolean check;

    @Option(names = "--print-config", description = "Print the configuration with every default filled in (secrets masked), and exit.")
    boolean printConfig;

    @Override
    public Integer call() throws Exception {
        NodeConfig config = ConfigReader.read(file);
        if (printConfig) {
            spec.commandLine().getOut().print(ConfigWriter.write(config));
            spec.commandLine().getOut().flush();
            return 0;
        }
        if (check) {
            if (config.role() == NodeConfig.Role.SERVER) {
                NodeSetup.server(config, NodeSetup.FILE);
            } else {
                NodeSetup.client(config, NodeSetup.FILE);
            }
            spec.commandLine().getOut().println(file + ": ok");
            spec.commandLine().getOut().flush();
            return 0;
        }
        return NodeProcess.fromFile(config, file);
    }
}
