/**
 * Forward mode ({@code -L} and {@code -R} with a target, TCP and UDP; direct mode is its filter):
 * {@link io.sdt.core.tunnel.forward.ForwardMode}. Built from {@code stream} and {@code datagram}; depends on
 * those, {@code tunnel}, {@code link}, {@code transport} and the codec.
 */
package io.sdt.core.tunnel.forward;
