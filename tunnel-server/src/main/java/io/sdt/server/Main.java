package io.sdt.server;

import io.netty.handler.ssl.OpenSsl;
import io.sdt.server.config.ConfigReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;
import java.util.jar.Attributes;
import java.util.jar.Manifest;

/** Entry point of the {@code sdt} command. Bad flags and specs exit with 2 and a one-line error. */
@Command(name = "sdt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Secure data tunnel: an encrypted multiplexed link with local and remote forwarding.")
public final class Main implements Runnable {

    /** The subcommands, in the order {@code sdt --help} lists them. */
    private static final List<String> SUBCOMMANDS =
            List.of("server", "client", "run", "demo", "token", "udp-encap-tun", "help");

    /** Exit code for bad flags, specs or config (also picocli's usage code). */
    public static final int EXIT_USAGE = 2;
    /** Exit code for a runtime failure (authentication failed, cannot bind). */
    public static final int EXIT_FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Netty's buffer allocators register JFR events when their classes load (~0.1 s of annotation reading at
        // start); sdt does not use them. -Dio.netty.jfr.enabled=true in SDT_JAVA_OPTS brings them back.
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        Preload.start(args);
        int code = run(args);
        // the audit appenders are asynchronous: drain them before the JVM goes (shutdownHook is off)
        org.apache.logging.log4j.LogManager.shutdown();
        System.exit(code);
    }

    /** Runs the command line and returns the exit code. */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /**
     * Runs the command line with its help and error text going to the given writers (for tests). A node's plain
     * command line starts it without picocli ({@link QuickLine}); picocli reads every other one.
     */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        QuickLine.Line line = QuickLine.read(args);
        if (line == null) {
            return picocli(out, err, args);
        }
        try {
            return line.file() != null ? NodeProcess.fromFile(ConfigReader.read(line.file()), line.file())
                    : NodeProcess.fromFlags(line.flags().nodeConfig());
        } catch (Exception e) {
            return failed(e, line.command(), err != null ? err : new java.io.PrintWriter(System.err, true));
        }
    }

    /** Runs the command line through picocli: help, version, errors in the flags, and every command. */
    static int picocli(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine(args.length == 0 ? null : args[0]);
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        cl.setParameterExceptionHandler(Main::badInput);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> failed(ex, line.getCommandName(), line.getErr()));
        return cl.execute(args);
    }

    /**
     * Reports a command that failed as it ran, one line per problem: exit code 2 for a bad flag value or
     * configuration, 1 for a failure at run time (authentication failed, cannot bind).
     */
    private static int failed(Exception ex, String command, java.io.PrintWriter err) {
        if (ex instanceof io.sdt.server.config.ConfigException config) {
            for (String problem : config.problems()) {
                err.println("sdt " + command + ": error: " + problem);
            }
            err.flush();
            return EXIT_USAGE;
        }
        err.println("sdt " + command + ": error: " + ex.getMessage());
        err.flush();
        return ex instanceof UsageException || ex instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
    }

    /**
     * The {@code sdt} command tree, without the exit-code handlers {@link #run} adds; also what the release's
     * completion scripts and man pages are made from (io.sdt.server.dist).
     */
    public static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command tree for a command line whose first word is {@code first}: when that names a subcommand, only
     * that one is built (picocli reads each subcommand's annotations as it adds it: ~10 ms of start-up apiece),
     * else all of them, for {@code sdt --help}, {@code sdt help X} and the errors that list them.
     */
    static CommandLine commandLine(String first) {
        CommandLine cl = new CommandLine(new Main());
        boolean one = first != null && SUBCOMMANDS.contains(first) && !first.equals("help");
        for (String name : SUBCOMMANDS) {
            if (!one || first.equals(name)) {
                CommandLine sub = new CommandLine(newSubcommand(name));
                // `sdt server --version` too, not only `sdt --version`
                sub.getCommandSpec().versionProvider(new Version());
                cl.addSubcommand(name, sub);
            }
        }
        return cl;
    }

    // A switch, not a map of constructor references: JDK 25's AOT cache assembler crashes (archiveHeapWriter.cpp)
    // on such a lambda when it names a class the cache leaves out, as it does picocli's Java 5 classes
    private static Object newSubcommand(String name) {
        return switch (name) {
            case "server" -> new ServerCommand();
            case "client" -> new ClientCommand();
            case "run" -> new RunCommand();
            case "demo" -> new DemoCommand();
            case "token" -> new TokenCommand();
            case "udp-encap-tun" -> new UdpEncapTunCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> throw new IllegalArgumentException(name);
        };
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

    /**
     * {@code sdt --version}: this build (version, git commit and date from {@code build-info.properties}, which
     * scripts/build-info.sh writes at build time), then the Netty, TLS library and Java it runs on.
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties build = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("build-info.properties")) {
                if (in != null) {
                    build.load(in);
                }
            } catch (IOException e) {
                // reported as unknown below
            }
            io.netty.util.Version netty = io.netty.util.Version.identify().get("netty-common");
            return new String[] {
                "sdt " + build.getProperty("version", "dev") + " (commit " + build.getProperty("commit", "unknown")
                        + ", built " + build.getProperty("built", "unknown") + ")",
                "Netty " + (netty == null ? "unknown" : netty.artifactVersion()),
                tls(),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }

        /**
         * The TLS library netty-tcnative loaded, as it names itself ("BoringSSL"), with the BoringSSL revision and
         * the tcnative version from the manifest of the jar that carries it; or why it could not be loaded.
         */
        private static String tls() {
            try {
                if (!OpenSsl.isAvailable()) {
                    return "BoringSSL unavailable: " + OpenSsl.unavailabilityCause();
                }
                String name = OpenSsl.versionString();
                List<String> about = new ArrayList<>();
                Enumeration<java.net.URL> manifests = Main.class.getClassLoader().getResources("META-INF/MANIFEST.MF");
                while (manifests.hasMoreElements()) {
                    try (InputStream in = manifests.nextElement().openStream()) {
                        Attributes a = new Manifest(in).getMainAttributes();
                        String revision = a.getValue("BoringSSL-Revision");
                        if (revision != null) {
                            about.add("revision " + revision.substring(0, Math.min(12, revision.length())));
                            about.add("netty-tcnative " + a.getValue("Implementation-Version"));
                            break;
                        }
                    }
                }
                return about.isEmpty() ? name : name + " (" + String.join(", ", about) + ")";
            } catch (IOException | LinkageError e) {
                return "BoringSSL unavailable: " + e;
            }
        }
    }
}
