/**
 * Who may open what: target and bind rules, checked by the node at every channel open and every bind,
 * and the audit trail of those decisions. Depends on the codec only (and Log4j2 for the audit logger).
 */
package io.sdt.core.policy;
