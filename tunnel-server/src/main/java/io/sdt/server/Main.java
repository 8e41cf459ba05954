package io.sdt.server;

import io.sdt.server.config.ConfigReader;

/**
 * Entry point of the {@code sdt} command. A node's plain command line starts it at once ({@link QuickLine});
 * every other one goes to picocli ({@link Commands}). Bad flags and specs exit with 2 and a one-line error.
 * Nothing here names a picocli class: verifying this class would load picocli's (~15 ms), which a node started
 * by QuickLine never needs.
 */
public final class Main {

    /** Exit code for bad flags, specs or config (also picocli's usage code). */
    public static final int EXIT_USAGE = 2;
    /** Exit code for a runtime failure (authentication failed, cannot bind). */
    public static final int EXIT_FAILURE = 1;

    private Main() {
    }

    public static void main(String[] args) {
        startUpDefaults();
        if (args.length > 0 && args[0].equals("demo")) {
            DemoCommand.quiet();
        }
        Preload.start(args);
        int code = run(args);
        // the audit appenders are asynchronous: drain them before the JVM goes (shutdownHook is off)
        org.apache.logging.log4j.LogManager.shutdown();
        System.exit(code);
    }

    /**
     * System properties that spare a node work at start, each only where neither SDT_JAVA_OPTS nor the
     * environment set it: Netty's buffer allocators register JFR events when their classes load (~0.1 s of
     * annotation reading; sdt does not use them; -Dio.netty.jfr.enabled=true brings them back), and Log4j2 goes
     * straight to its configuration instead of looking for ~70 other names of it across every jar on the class
     * path (~30 ms; -Dlog4j2.configurationFile or LOG4J_CONFIGURATION_FILE still name another).
     */
    private static void startUpDefaults() {
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        if (System.getProperty("log4j2.configurationFile") == null
                && System.getProperty("log4j.configurationFile") == null
                && System.getenv("LOG4J_CONFIGURATION_FILE") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2.properties");
        }
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
            return Commands.run(out, err, args);
        }
        try {
            Preload.awaitLogging(); // the node's first logger follows, and Log4j2 must not be configured twice at once
            return line.file() != null ? NodeProcess.fromFile(ConfigReader.read(line.file()), line.file())
                    : NodeProcess.fromFlags(line.flags().nodeConfig());
        } catch (Exception e) {
            return failed(e, line.command(), err != null ? err : new java.io.PrintWriter(System.err, true));
        }
    }

    /**
     * Reports a command that failed as it ran, one line per problem: exit code 2 for a bad flag value or
     * configuration, 1 for a failure at run time (authentication failed, cannot bind).
     */
    static int failed(Exception ex, String command, java.io.PrintWriter err) {
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

    /** A bad flag value found after parsing; reported with exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

}
