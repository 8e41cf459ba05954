package io.sdt.server;

import io.sdt.core.link.Token;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code sdt token}: prints a fresh random token (32 bytes, base64url). */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Print a fresh random token.")
final class TokenCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println(Token.generate());
        return 0;
    }
}
