/**
 * TCP forwarding, local and remote alike: the same listener and {@link io.sdt.core.tunnel.stream.StreamChannel}
 * run on either node; an OPEN frame tells the far node which egress to perform.
 */
package io.sdt.core.tunnel.stream;
