/**
 * Shared secrets given as text, validated and turned into keys one way for every program of the
 * project (link tokens, udp-encap-tun secrets). Depends on the JDK only.
 */
package io.sdt.core.secret;
