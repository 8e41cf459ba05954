/**
 * What the release tarball carries besides the jars (scripts/release.sh, docs/INSTALL.md): bash and zsh
 * completion and man pages, made at build time from the sdt command line's own model, picocli's CommandSpec, so
 * they name every option there is. Depends on the server's command tree; nothing depends on it.
 */
package io.sdt.server.dist;
