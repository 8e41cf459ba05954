/**
 * The configuration file ({@code sdt run CONFIG.yaml}): the YAML reader that reports every problem at
 * once, the {@link io.sdt.server.config.NodeConfig} model that flags and files share, and the writer behind
 * {@code --print-config}. Depends on the codec and the core's tunnel specs; the rest of the server module
 * turns a {@code NodeConfig} into running nodes.
 */
package io.sdt.server.config;
