package io.sdt.core;

import io.sdt.core.tunnel.Tunnel;

import java.util.List;

/**
 * What a reload ({@link SdtClient#reconfigure}) changed: the tunnels kept running with their channels,
 * those closed, and those started.
 */
public record TunnelChange(List<Tunnel> kept, List<Tunnel> removed, List<Tunnel> added) {
}
