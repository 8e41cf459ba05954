package io.sdt.server;

import io.netty.handler.ssl.OpenSsl;
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

import static io.sdt.server.Main.EXIT_USAGE;

/**
 * The {@code sdt} command tree as picocli reads it: help, version, errors in the flags, and every command line
 * {@link QuickLine} leaves to it. Also what the release's completion scripts and man pages are made from
 * (io.sdt.server.dist).
 */
@Command(name = "sdt", mixinStandardHelpOptions = true, versionProvider = Commands.Version.class,
        description = "Secure data tunnel: an encrypted multiplexed link with local and remote forwarding.")
public final class Commands implements Runnable {

    /** The subcommands, in the order {@code sdt --help} lists them. */
    private static final List<String> SUBCOMMANDS =
            List.of("server", "client", "run", "demo", "token", "udp-encap-tun", "help");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line through picocli: help, version, errors in the flags, and every command. */
    static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine(args.length == 0 ? null : args[0]);
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        cl.setParameterExceptionHandler(Commands::badInput);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> Main.failed(ex, line.getCommandName(), line.getErr()));
        // the command may log: not before the preload has configured Log4j2 (see Preload)
        cl.setExecutionStrategy(parsed -> {
            Preload.awaitLogging();
            return new CommandLine.RunLast().execute(parsed);
        });
        return cl.execute(args);
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
        CommandLine cl = new CommandLine(new Commands());
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

    /**
     * {@code sdt --version}: this build (version, git commit and date from {@code build-info.properties}, which
     * scripts/build-info.sh writes at build time), then the Netty, TLS library and Java it runs on.
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties build = new Properties();
            try (InputStream in = Commands.class.getResourceAsStream("build-info.properties")) {
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
                Enumeration<java.net.URL> manifests = Commands.class.getClassLoader().getResources("META-INF/MANIFEST.MF");
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
