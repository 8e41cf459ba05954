/**
 * The {@code sdt} command line: flag parsing into the core's validated configs, logging set-up,
 * signal handling and the embedded demo. Depends on the core; nothing depends on it.
 */
package io.sdt.server;
