package io.sdt.server;

import io.sdt.server.config.NodeConfig;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the command lines that start a node, {@code sdt server|client FLAG VALUE...} and {@code sdt run CONFIG},
 * without picocli. picocli took ~0.3 s of a node's start (its classes are Java 5 class files, which the JDK's
 * AOT cache does not hold, and it builds its model from annotations by reflection); this reader takes
 * microseconds. It knows only the plain forms: {@code --flag VALUE}, {@code --flag=VALUE} and
 * {@code -L|-R|-D VALUE} (or {@code -LVALUE}), each single-valued flag at most once, the required flags given.
 * Anything else (help, version, --print-config, a value that starts with '-' or '@', a word it does not know, a
 * flag given twice) it leaves to picocli, which reads the whole line again and reports what is wrong; so both
 * readers mean the same by every line this one accepts ({@code QuickLineTest} compares them flag by flag).
 */
final class QuickLine {

    /** What a command did with a flag: a single-valued one (at most once) or a repeatable one. */
    enum Taken { ONCE, REPEATABLE }

    /** A command whose flags this reader can set: the fields picocli would set, through {@link #take}. */
    interface Command {
        /** Sets {@code flag} to {@code value} as picocli would; {@code null} for a flag left to picocli. */
        Taken take(String flag, String value);

        /** Whether the flags picocli requires were given. */
        boolean complete();

        /** The configuration these flags mean. */
        NodeConfig nodeConfig();
    }

    /** The plain command line of a node, read; or {@code null} when picocli must read it. */
    record Line(String command, Command flags, Path file) {
    }

    private QuickLine() {
    }

    /** The command line read, or {@code null} when it is not one of the plain forms (picocli reads it then). */
    static Line read(String... args) {
        if (args.length == 0) {
            return null;
        }
        if (args[0].equals("run")) {
            Path file = args.length == 2 && plain(args[1]) ? path(args[1]) : null;
            return file == null ? null : new Line("run", null, file);
        }
        Command command = switch (args[0]) {
            case "server" -> new ServerCommand();
            case "client" -> new ClientCommand();
            default -> null;
        };
        if (command == null) {
            return null;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            String flag;
            String value;
            if (arg.startsWith("--") && arg.indexOf('=') > 2) {
                flag = arg.substring(0, arg.indexOf('='));
                value = arg.substring(arg.indexOf('=') + 1);
            } else if (arg.startsWith("--") || arg.length() == 2 && arg.charAt(0) == '-') {
                if (i + 1 == args.length) {
                    return null;
                }
                flag = arg;
                value = args[++i];
            } else if (arg.length() > 2 && arg.charAt(0) == '-' && "LRD".indexOf(arg.charAt(1)) >= 0) {
                flag = arg.substring(0, 2);
                value = arg.substring(2);
            } else {
                return null;
            }
            if (!plain(value)) {
                return null;
            }
            Taken taken = command.take(flag, value);
            if (taken == null || taken == Taken.ONCE && !seen.add(flag)) {
                return null;
            }
        }
        return command.complete() ? new Line(args[0], command, null) : null;
    }

    /** A value picocli takes as it is: not empty, not an option's shape, not an @argument-file. */
    private static boolean plain(String value) {
        return !value.isEmpty() && value.charAt(0) != '-' && value.charAt(0) != '@' && value.charAt(0) != '=';
    }

    /**
     * What a single-valued flag's {@code field = value} did: {@link Taken#ONCE}, or {@code null} (left to
     * picocli) when the value could not be converted ({@link #path}).
     */
    static Taken once(Object set) {
        return set == null ? null : Taken.ONCE;
    }

    /** Adds a repeatable flag's value to its list. */
    static Taken repeat(List<String> values, String value) {
        values.add(value);
        return Taken.REPEATABLE;
    }

    /**
     * A count flag's value, as picocli converts it; {@code null} for anything but plain decimal digits (picocli
     * also reads signs, hexadecimal and octal, and reports what it refuses).
     */
    static Integer count(String value) {
        return value.matches("0|[1-9][0-9]{0,8}") ? Integer.valueOf(value) : null;
    }

    /** A path flag's value, as picocli converts it; {@code null} for one it would refuse. */
    static Path path(String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
