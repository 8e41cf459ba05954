/**
 * The admin HTTP endpoint ({@code --admin}): {@code /metrics} (Micrometer, Prometheus text), {@code /healthz}
 * and {@code /tunnels}. Reads the core's thread-safe counters; depends on the core, nothing in the core on it.
 */
package io.sdt.server.admin;
