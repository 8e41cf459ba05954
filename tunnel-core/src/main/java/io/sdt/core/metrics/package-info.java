/**
 * The node's counters and channel-open histograms, behind plain methods so that no Micrometer type is on
 * the data path (the server module exports them). Depends on the JDK only.
 */
package io.sdt.core.metrics;
