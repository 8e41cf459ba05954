/**
 * Tunnel specs and the ingress and egress of each mode. Depends on the link, the codec, the policy
 * and the transport; the link never depends on this package.
 */
package io.sdt.core.tunnel;
