package io.sdt.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code sdt} command. Bad flags and specs exit with 2 and a one-line error. */
@Command(name = "sdt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Secure data tunnel: an encrypted multiplexed link with local and remote forwarding.",
        subcommands = {ServerCommand.class, ClientCommand.class, RunCommand.class, DemoCommand.class,
                TokenCommand.class, UdpEncapTunCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for bad flags, specs or config (also picocli's usage code). */
    public static final int EXIT_USAGE = 2;
    /** Exit code for a runtime failure (authentication failed, cannot bind). */
    public static final int EXIT_FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int code = run(args);
        // the audit appenders are asynchronous: drain them before the JVM goes (shutdownHook is off)
        org.apache.logging.log4j.LogManager.shutdown();
        System.exit(code);
    }

    /** Runs the command line and returns the exit code. */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** Runs the command line with its help and error text going to the given writers (for tests). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        cl.setParameterExceptionHandler(Main::badInput);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof io.sdt.server.config.ConfigException config) {
                for (String problem : config.problems()) {
                    line.getErr().println("sdt " + line.getCommandName() + ": error: " + problem);
                }
                return EXIT_USAGE;
            }
            if (ex instanceof UsageException || ex instanceof IllegalArgumentException) {
                line.getErr().println("sdt " + line.getCommandName() + ": error: " + ex.getMessage());
                return EXIT_USAGE;
            }
            line.getErr().println("sdt " + line.getCommandName() + ": error: " + ex.getMessage());
            return EXIT_FAILURE;
        });
        return cl.execute(args);
    }

    private static int badInput(CommandLine.ParameterException ex, String[] args) {
        CommandLine line = ex.getCommandLine();
        String name = line.getCommandSpec().qualifiedName();
        line.getErr().println(name + ": error: " + ex.getMessage());
        line.getErr().println("try '" + name + " --help'");
        return EXIT_USAGE;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (server, client, run, demo, token or udp-encap-tun)");
    }

    /** A bad flag value found after parsing; reported with exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sdt " + (v == null ? "dev" : v)};
        }
    }
}
