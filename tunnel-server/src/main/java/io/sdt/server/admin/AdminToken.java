package io.sdt.server.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;

/**
 * The secret of {@code --admin-token-file}: a request to the admin endpoint carries it as
 * {@code Authorization: Bearer TOKEN} (Prometheus' {@code bearer_token_file}, curl) or as the password of
 * HTTP Basic with any user name (a browser's login prompt). Compared in constant time.
 */
final class AdminToken {

    private final byte[] token;

    AdminToken(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("the admin token is empty");
        }
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /** True if the {@code Authorization} header's value (may be null) carries the token. */
    boolean admits(String authorization) {
        if (authorization == null) {
            return false;
        }
        int sp = authorization.indexOf(' ');
        if (sp < 0) {
            return false;
        }
        String scheme = authorization.substring(0, sp).toLowerCase(Locale.ROOT);
        String value = authorization.substring(sp + 1).strip();
        byte[] given;
        if (scheme.equals("bearer")) {
            given = value.getBytes(StandardCharsets.UTF_8);
        } else if (scheme.equals("basic")) {
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(value);
            } catch (IllegalArgumentException e) {
                return false;
            }
            String userPass = new String(decoded, StandardCharsets.UTF_8);
            int colon = userPass.indexOf(':');
            if (colon < 0) {
                return false;
            }
            given = userPass.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        } else {
            return false;
        }
        return MessageDigest.isEqual(token, given);
    }
}
