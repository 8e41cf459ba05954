/**
 * The durable push spool of the ingress: an append-only, segmented record log on disk with sequence
 * numbers and acknowledged deletion, and its crash recovery. Depends on the JDK only; blocking file
 * I/O, so it is driven from its own thread, never from an event loop.
 */
package io.sdt.core.tunnel.push.spool;
