/**
 * The node layer and the embeddable API: {@link io.sdt.core.SdtServer} and {@link io.sdt.core.SdtClient},
 * their configurations, what each does with its peer's requests (the hooks), the client's dialer and the
 * registry that maps a tunnel mode to its implementation. Depends on every other core package; none of them
 * depends on it, and it never depends on the server (CLI) module.
 */
package io.sdt.core;
