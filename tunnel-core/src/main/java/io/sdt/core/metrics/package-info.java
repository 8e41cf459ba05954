/**
 * Counters, gauges and latency histograms the engine keeps for operators and tests. Plain atomics, no
 * Micrometer types: the server module binds them to its registry. Depends on nothing.
 */
package io.sdt.core.metrics;
