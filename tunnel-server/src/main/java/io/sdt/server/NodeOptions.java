package io.sdt.server;

import io.sdt.codec.HostPort;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.Token;
import io.sdt.core.transport.Transport;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Flags that {@code sdt server} and {@code sdt client} share. */
final class NodeOptions {

    @Option(names = "--token-file", paramLabel = "F",
            description = "File holding the shared token (surrounding whitespace ignored). Default: env SDT_TOKEN.")
    Path tokenFile;

    @Option(names = "--transport", paramLabel = "auto|io_uring|epoll|nio", defaultValue = "auto",
            description = "I/O transport (default: ${DEFAULT-VALUE}: epoll, else io_uring, else nio).")
    String transport;

    @Option(names = "--window", paramLabel = "BYTES", description = "Per-channel receive window, e.g. 4m (default 4 MiB).")
    String window;

    @Option(names = "--admin", paramLabel = "[HOST:]PORT", description = "Admin HTTP endpoint: GET /metrics (Prometheus), /healthz, /tunnels. HOST defaults to 127.0.0.1; port 0 picks one.")
    String admin;

    /** The token from --token-file or SDT_TOKEN. */
    Token token() {
        String text;
        if (tokenFile != null) {
            try {
                text = Files.readString(tokenFile, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new Main.UsageException("--token-file " + tokenFile + ": no such file");
            } catch (IOException e) {
                throw new Main.UsageException("--token-file " + tokenFile + ": cannot read: " + e.getMessage());
            }
        } else {
            text = System.getenv("SDT_TOKEN");
            if (text == null) {
                throw new Main.UsageException("no token: give --token-file F or set SDT_TOKEN (make one with 'sdt token')");
            }
        }
        try {
            return Token.of(text);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException((tokenFile != null ? "--token-file " + tokenFile : "SDT_TOKEN") + ": "
                    + e.getMessage());
        }
    }

    Transport transport() {
        try {
            return Transport.select(transport);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--transport: " + e.getMessage());
        }
    }

    LinkSettings settings() {
        LinkSettings s = LinkSettings.defaults();
        if (window != null) {
            try {
                s = s.withWindow(Sizes.parse(window));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--window " + window + ": " + e.getMessage());
            }
        }
        return s;
    }

    /** The --admin address, or {@code null} without the flag. */
    HostPort admin() {
        return admin == null ? null : Addresses.parse("--admin", admin, "127.0.0.1", false);
    }
}
