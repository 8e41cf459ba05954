/**
 * Stream channels, used by forward TCP and by router CONNECTs: the TCP listener that hands accepted
 * sockets to their link's loop, the {@link io.sdt.core.tunnel.stream.StreamChannel} relay (the same class
 * at the ingress and the egress), its connector and its {@link io.sdt.core.tunnel.stream.OpenAnswer}.
 * Depends on {@code tunnel}, {@code link}, {@code transport} and the codec.
 */
package io.sdt.core.tunnel.stream;
