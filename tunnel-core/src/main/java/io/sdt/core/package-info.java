/**
 * The embeddable engine API: {@link io.sdt.core.SdtServer} and {@link io.sdt.core.SdtClient}. Depends on
 * the codec and Netty; never on the server (CLI) module.
 */
package io.sdt.core;
