package io.sdt.server;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code sdt run CONFIG.yaml}: not in this version yet; says so clearly instead of pretending. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run from a YAML config file (not supported yet).")
final class RunCommand implements Callable<Integer> {

    @Parameters(paramLabel = "CONFIG.yaml")
    String file;

    @Override
    public Integer call() {
        throw new Main.UsageException("run " + file + ": configuration files are not supported yet; use 'sdt server' or 'sdt client' flags");
    }
}
