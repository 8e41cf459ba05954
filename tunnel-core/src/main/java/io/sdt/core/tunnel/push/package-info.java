/**
 * Push mode (log shipping), TCP and UDP: {@link io.sdt.core.tunnel.push.PushMode}. TCP carries
 * newline-delimited records from any number of producers whole, in one channel, to one upstream
 * connection, and the egress spools them while the target is away; UDP uses the one-way form of the
 * datagram ingress. With {@code relp} either end speaks RELP ({@code push.relp}) instead of text.
 * Depends on {@code datagram}, {@code spool}, {@code relp}, {@code tunnel}, {@code link},
 * {@code metrics}, {@code transport} and the codec.
 */
package io.sdt.core.tunnel.push;
