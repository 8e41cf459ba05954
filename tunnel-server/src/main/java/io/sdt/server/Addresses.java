package io.sdt.server;

import io.sdt.codec.HostPort;

/** Parses {@code [HOST:]PORT} and {@code HOST:PORT} flag values (IPv6 in brackets). */
final class Addresses {

    private Addresses() {
    }

    /** {@code [HOST:]PORT}; HOST defaults to {@code defaultHost}. */
    static HostPort parse(String flag, String value, String defaultHost, boolean hostRequired) {
        String v = value == null ? "" : value.strip();
        String host;
        String port;
        if (v.startsWith("[")) {
            int close = v.indexOf(']');
            if (close < 0 || close + 1 >= v.length() || v.charAt(close + 1) != ':') {
                throw new Main.UsageException(flag + " " + value + ": expected [IPv6]:PORT");
            }
            host = v.substring(1, close);
            port = v.substring(close + 2);
        } else {
            int colon = v.lastIndexOf(':');
            if (colon < 0) {
                if (hostRequired) {
                    throw new Main.UsageException(flag + " " + value + ": expected HOST:PORT");
                }
                host = defaultHost;
                port = v;
            } else {
                if (v.indexOf(':') != colon) {
                    throw new Main.UsageException(flag + " " + value + ": IPv6 addresses go in brackets, e.g. [::1]:7000");
                }
                host = v.substring(0, colon);
                port = v.substring(colon + 1);
                if (host.isEmpty() || host.equals("*")) {
                    host = "0.0.0.0";
                }
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(flag + " " + value + ": port '" + port + "' is not a number");
        }
        if (p < 0 || p > 65535 || (hostRequired && p == 0)) {
            throw new Main.UsageException(flag + " " + value + ": port " + p + " is out of range");
        }
        try {
            return new HostPort(host, p);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(flag + " " + value + ": " + e.getMessage());
        }
    }
}
