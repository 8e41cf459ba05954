/**
 * The link between two nodes: TLS, mutual token authentication, heartbeat, the channel table and
 * per-channel flow control. Depends on the codec, the transport and the metrics recorder.
 */
package io.sdt.core.link;
