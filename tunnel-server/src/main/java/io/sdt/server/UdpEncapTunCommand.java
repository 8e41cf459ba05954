package io.sdt.server;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code sdt udp-encap-tun}: not in this version yet; says so clearly instead of pretending. */
@Command(name = "udp-encap-tun", mixinStandardHelpOptions = true,
        description = "TCP segments from a TUN device carried in UDP (not supported yet).")
final class UdpEncapTunCommand implements Callable<Integer> {

    @Unmatched
    List<String> args;

    @Override
    public Integer call() {
        throw new Main.UsageException("udp-encap-tun is not supported yet");
    }
}
