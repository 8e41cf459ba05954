package io.sdt.server.config;

import java.util.List;

/**
 * A configuration that cannot run, with every problem found: one line each, led by the key's path
 * in the file ({@code tunnels[2].target: ...}) or by the flag that set it ({@code --window: ...}).
 */
public final class ConfigException extends RuntimeException {

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    public ConfigException(String problem) {
        this(List.of(problem));
    }

    public List<String> problems() {
        return problems;
    }
}
