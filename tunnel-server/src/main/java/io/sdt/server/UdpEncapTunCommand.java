package io.sdt.server;

import io.sdt.encap.EncapConfig;
import io.sdt.encap.EncapEngine;
import io.sdt.core.secret.SharedSecret;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code sdt udp-encap-tun}: TCP segments read from a TUN device carried as UDP payloads, with a
 * challenge-response authentication over TCP (docs/UDP-ENCAP-TUN.md). Without --endpoint-port it is the
 * server (accepts peers, gives each an address from the TUN's subnet); with it, a client.
 */
@Command(name = "udp-encap-tun", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Carry TCP segments from a TUN device as UDP payloads (Linux, needs CAP_NET_ADMIN).",
                "Without --endpoint-port: server (authenticates peers on TCP --listen-port).",
                "With --endpoint-port: client (authenticates with each destination first)."})
final class UdpEncapTunCommand implements Callable<Integer> {

    @Option(names = "--interface", required = true, paramLabel = "TUN",
            description = "TUN device to attach to (created if absent). Its addresses and routes are yours to set with ip.")
    String tunName;

    @Option(names = "--listen-port", required = true, paramLabel = "PORT",
            description = "UDP port to listen and send on; the server also authenticates on this TCP port.")
    int listenPort;

    @Option(names = "--bind-to-interface", required = true, paramLabel = "IF",
            description = "Interface all sockets are bound to (SO_BINDTODEVICE), e.g. eth0.")
    String bindDevice;

    @Option(names = "--endpoint-port", paramLabel = "PORT",
            description = "The servers' port; makes this program a client.")
    Integer endpointPort;

    @Option(names = "--secret-file", required = true, paramLabel = "F",
            description = "File holding the shared secret (at least 16 characters; make one with 'sdt token').")
    Path secretFile;

    @Option(names = "--pool", paramLabel = "CIDR",
            description = "Server only: generate peer addresses from this IPv4 CIDR instead of the TUN's own subnet.")
    String pool;

    @Override
    public Integer call() throws Exception {
        EncapConfig config = config();
        EncapEngine engine = new EncapEngine(config);
        return Signals.runUntilTerminated(() -> {
            engine.start();
            return engine;
        }, engine::close, engine.fatal());
    }

    /** The validated configuration, or a {@link Main.UsageException} naming the flag. */
    EncapConfig config() {
        check("--interface " + tunName, () -> EncapConfig.checkInterfaceName(tunName));
        check("--bind-to-interface " + bindDevice, () -> EncapConfig.checkInterfaceName(bindDevice));
        check("--listen-port " + listenPort, () -> EncapConfig.checkPort(listenPort));
        if (endpointPort != null) {
            check("--endpoint-port " + endpointPort, () -> EncapConfig.checkPort(endpointPort));
        }
        if (pool != null) {
            if (endpointPort != null) {
                throw new Main.UsageException("--pool applies to the server only (drop it or --endpoint-port)");
            }
            check("--pool " + pool, () -> EncapConfig.checkPool(pool));
        }
        if (tunName.equals(bindDevice)) {
            throw new Main.UsageException("--bind-to-interface must differ from --interface (" + tunName + ")");
        }
        try {
            if (NetworkInterface.getByName(bindDevice) == null) {
                throw new Main.UsageException("--bind-to-interface " + bindDevice + ": no such interface");
            }
        } catch (SocketException e) {
            throw new Main.UsageException("--bind-to-interface " + bindDevice + ": " + e.getMessage());
        }
        return new EncapConfig(tunName, listenPort, bindDevice, endpointPort == null ? 0 : endpointPort, secret(), pool);
    }

    private SharedSecret secret() {
        String text;
        try {
            text = Files.readString(secretFile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new Main.UsageException("--secret-file " + secretFile + ": no such file");
        } catch (IOException e) {
            throw new Main.UsageException("--secret-file " + secretFile + ": cannot read: " + e.getMessage());
        }
        try {
            return EncapConfig.secret(text);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--secret-file " + secretFile + ": " + e.getMessage());
        }
    }

    private static void check(String flag, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(flag + ": " + e.getMessage());
        }
    }
}
